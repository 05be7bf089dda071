;; data_out_of_bounds: an active data segment past the end of its 2-page memory, which only
;; instantiation finds out. No code runs at instantiation (no start function), so the failure
;; recurs on every try: refused at load, not retried with backoff.
;; Hostile guest for the host's tests (test/guests/hostile/README.md): raw ABI, no SDK.
(module
  (import "wop" "declare" (func $declare (param i32 i32) (result i32)))
  (import "wop" "reconcile_done" (func $reconcile_done (param i32 i32 i64 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 200000) "past the end")
  (func (export "wop_abi_version_1"))
  (global $heap (mut i32) (i32.const 65536))
  (data (i32.const 1024) "{\"name\":\"hostile\",\"for\":{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"namespace\":\"\",\"labelSelector\":\"hostile.wasm-operator.dev/target\",\"predicates\":[]},\"owns\":[],\"watches\":[],\"maxConcurrentReconciles\":1,\"resyncSeconds\":0}")
  (func (export "wop_alloc") (param $len i32) (result i32)
    (local $start i32)
    (local.set $start (global.get $heap))
    (global.set $heap (i32.add (local.get $start) (local.get $len)))
    (local.get $start))
  (func (export "wop_init") (result i32)
    (drop (call $declare (i32.const 1024) (i32.const 214)))
    (i32.const 0))
  (func (export "wop_reconcile") (param $id i32) (param $controller i32) (param $key i32) (param $key_len i32) (result i32)
    (drop (call $reconcile_done (local.get $id) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
    (i32.const 0))
  (func (export "wop_on_complete") (param i32 i32 i32 i32) (result i32) (i32.const 0))
)
