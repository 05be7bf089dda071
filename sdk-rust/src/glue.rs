//! The only place that touches the raw exports: [`operator!`](crate::operator) defines every
//! export ABI v1 requires, in the operator's own crate (a cdylib exports what it defines), and
//! each one turns the host's (ptr, len) pairs into owned buffers before handing over to
//! `runtime`.

use crate::host::{self, HostBytes};

/// Guest pointers are offsets into linear memory; on wasm32 an offset is an address.
fn pointer(offset: u32) -> *mut u8 {
    offset as usize as *mut u8
}

#[doc(hidden)]
pub fn alloc(len: u32) -> u32 {
    host::alloc(len as usize) as usize as u32
}

/// Takes ownership of a buffer the host filled, lends it to `f`, and frees it.
#[doc(hidden)]
pub fn adopted<R>(ptr: u32, len: u32, f: impl FnOnce(&[u8]) -> R) -> R {
    f(HostBytes::adopt(pointer(ptr), len as usize).as_bytes())
}

/// Makes `controllers` (a `fn(&Config) -> Vec<Controller>`, called once in `wop_init`) the
/// operator of this module and defines the module's exports: the ABI marker
/// `wop_abi_version_1`, `wop_alloc`, `wop_init`, `wop_reconcile`, `wop_on_complete` and
/// `wop_map`. Use it once, in the crate root of a `cdylib`.
#[macro_export]
macro_rules! operator {
    ($controllers:expr) => {
        const _: () = {
            #[export_name = "wop_abi_version_1"]
            pub extern "C" fn wop_abi_version_1() {}

            #[no_mangle]
            pub extern "C" fn wop_alloc(len: u32) -> u32 {
                $crate::glue::alloc(len)
            }

            #[no_mangle]
            pub extern "C" fn wop_init() -> i32 {
                $crate::runtime::init($controllers)
            }

            #[no_mangle]
            pub extern "C" fn wop_reconcile(reconcile_id: u32, controller_id: u32, key_ptr: u32, key_len: u32) -> i32 {
                $crate::glue::adopted(key_ptr, key_len, |key| {
                    $crate::runtime::reconcile(reconcile_id, controller_id, &String::from_utf8_lossy(key))
                })
            }

            #[no_mangle]
            pub extern "C" fn wop_on_complete(token: u32, http_status: i32, body_ptr: u32, body_len: u32) -> i32 {
                $crate::glue::adopted(body_ptr, body_len, |body| $crate::runtime::on_complete(token, http_status, body))
            }

            #[no_mangle]
            pub extern "C" fn wop_map(controller_id: u32, watch_index: u32, obj_ptr: u32, obj_len: u32) -> i32 {
                $crate::glue::adopted(obj_ptr, obj_len, |object| {
                    $crate::runtime::map(controller_id, watch_index, object)
                })
            }
        };
    };
}
