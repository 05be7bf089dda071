//! The host functions behind safe signatures, and the buffers the host allocates in the guest.
//!
//! On wasm32 each function calls its import. Elsewhere (`cargo test` on the build machine)
//! they go to [`crate::testing`]'s fake host, so the executor and the client are tested
//! without a host.

use std::alloc::{self, Layout};

/// Bytes in front of every `wop_alloc` buffer: its capacity, so it can be freed with the layout
/// it was allocated with (Rust's allocator wants the size back; the ABI hands only the pointer
/// and the length written).
const HEADER: usize = 8;

/// `wop_alloc`: a buffer of `len` bytes for the host to fill, or null.
pub(crate) fn alloc(len: usize) -> *mut u8 {
    let layout = match layout_for(len) {
        Some(layout) => layout,
        None => return std::ptr::null_mut(),
    };
    // SAFETY: the layout is non-zero in size (it includes the header).
    let base = unsafe { alloc::alloc(layout) };
    if base.is_null() {
        return base;
    }
    // SAFETY: base is valid for HEADER + len bytes and aligned to 8.
    unsafe {
        (base as *mut u64).write(len as u64);
        base.add(HEADER)
    }
}

fn layout_for(len: usize) -> Option<Layout> {
    Layout::from_size_align(len.checked_add(HEADER)?, HEADER).ok()
}

/// A buffer the host allocated with `wop_alloc` and handed over: owned here, freed on drop.
pub(crate) struct HostBytes {
    base: *mut u8, // null: empty, nothing to free
    len: usize,
}

impl HostBytes {
    /// Takes ownership of (data, len) as handed over by the host, where data came from
    /// alloc(); null is empty. A length beyond the buffer's capacity (a broken host) is cut to
    /// the capacity.
    pub(crate) fn adopt(data: *mut u8, len: usize) -> HostBytes {
        if data.is_null() || (data as usize) < HEADER {
            return HostBytes { base: std::ptr::null_mut(), len: 0 };
        }
        // SAFETY: data came from alloc(), which wrote the capacity in the header before it.
        let base = unsafe { data.sub(HEADER) };
        let capacity = unsafe { (base as *const u64).read() } as usize;
        HostBytes { base, len: len.min(capacity) }
    }

    /// A copy of bytes in a buffer of alloc()'s, as the host would have written it.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn copy_of(bytes: &[u8]) -> HostBytes {
        let data = alloc(bytes.len());
        assert!(!data.is_null(), "allocation failed");
        // SAFETY: data is valid for bytes.len() bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), data, bytes.len()) };
        HostBytes::adopt(data, bytes.len())
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        if self.base.is_null() {
            return &[];
        }
        // SAFETY: the buffer holds at least len bytes after the header, and lives until drop.
        unsafe { std::slice::from_raw_parts(self.base.add(HEADER), self.len) }
    }

    /// The text, or None if it is not UTF-8.
    pub(crate) fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()).ok()
    }
}

impl Drop for HostBytes {
    fn drop(&mut self) {
        if self.base.is_null() {
            return;
        }
        // SAFETY: base and its layout are what alloc() allocated (capacity from the header).
        unsafe {
            let capacity = (self.base as *const u64).read() as usize;
            if let Some(layout) = layout_for(capacity) {
                alloc::dealloc(self.base, layout);
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod calls {
    use super::HostBytes;
    use crate::abi::imports::*;

    fn address<T: ?Sized>(p: *const T) -> u32 {
        p as *const u8 as usize as u32
    }

    /// A guest pointer (a linear memory offset) as a pointer.
    pub(crate) fn pointer(offset: u32) -> *mut u8 {
        offset as usize as *mut u8
    }

    /// Calls a host function that answers through (out_ptr, out_len); frees the buffer even on
    /// error, should the host have filled it.
    fn read_out(call: impl FnOnce(u32, u32) -> i32) -> Result<HostBytes, i32> {
        let mut out_ptr: u32 = 0;
        let mut out_len: u32 = 0;
        let status = call(address(&mut out_ptr as *mut u32), address(&mut out_len as *mut u32));
        let bytes = HostBytes::adopt(pointer(out_ptr), out_len as usize);
        if status < 0 {
            Err(status)
        } else {
            Ok(bytes)
        }
    }

    pub(crate) fn log(level: i32, message: &str) {
        unsafe { wop_log(level, address(message.as_ptr()), message.len() as u32) }
    }
    pub(crate) fn config_get() -> Result<HostBytes, i32> {
        read_out(|p, l| unsafe { wop_config_get(p, l) })
    }
    pub(crate) fn declare(declaration: &str) -> i32 {
        unsafe { wop_declare(address(declaration.as_ptr()), declaration.len() as u32) }
    }
    pub(crate) fn cache_read(request: &str) -> Result<HostBytes, i32> {
        read_out(|p, l| unsafe { wop_cache_read(address(request.as_ptr()), request.len() as u32, p, l) })
    }
    pub(crate) fn api_call(request: &str) -> i32 {
        unsafe { wop_api_call(address(request.as_ptr()), request.len() as u32) }
    }
    pub(crate) fn reconcile_done(reconcile_id: u32, outcome: i32, requeue_after_ms: i64, message: &str) -> i32 {
        unsafe {
            wop_reconcile_done(reconcile_id, outcome, requeue_after_ms, address(message.as_ptr()), message.len() as u32)
        }
    }
    pub(crate) fn emit_key(key: &str) -> i32 {
        unsafe { wop_emit_key(address(key.as_ptr()), key.len() as u32) }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod calls {
    pub(crate) use crate::testing::fake::{api_call, cache_read, config_get, declare, emit_key, log, reconcile_done};
}

pub(crate) use calls::*;
