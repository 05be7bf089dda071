;; waiter: each reconcile makes one API call that the API server answers slowly (a list at a
;; resourceVersion it has not reached: the server waits about 3 s for it, then answers 504),
;; and ends when the answer comes. The runtime benchmark starts hundreds at once to show that
;; waiting reconciles hold no host thread.
(module
  (import "wop" "declare" (func $declare (param i32 i32) (result i32)))
  (import "wop" "api_call" (func $api_call (param i32 i32) (result i32)))
  (import "wop" "reconcile_done" (func $reconcile_done (param i32 i32 i64 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  (global $reconcile (mut i32) (i32.const 0))
  (data (i32.const 1024) "{\"name\":\"waiter\",\"for\":{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"namespace\":\"bench-wait\",\"labelSelector\":\"wait\"}}")
  (data (i32.const 2048) "{\"verb\":\"list\",\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"namespace\":\"bench-wait\",\"resourceVersion\":\"999999999\",\"resourceVersionMatch\":\"NotOlderThan\"}")
  (func (export "wop_abi_version_1"))
  ;; Bump allocator over the second page, wrapping: this guest keeps nothing it is given.
  (func (export "wop_alloc") (param $len i32) (result i32)
    (local $start i32)
    (if (i32.gt_u (local.get $len) (i32.const 65536)) (then (return (i32.const 0))))
    (if (i32.gt_u (i32.add (global.get $heap) (local.get $len)) (i32.const 131072))
      (then (global.set $heap (i32.const 65536))))
    (local.set $start (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $len)))
    (local.get $start))
  (func (export "wop_init") (result i32)
    (drop (call $declare (i32.const 1024) (i32.const 110)))
    (i32.const 0))
  (func (export "wop_reconcile") (param $id i32) (param $controller i32) (param $key i32) (param $key_len i32) (result i32)
    (global.set $reconcile (local.get $id))
    (drop (call $api_call (i32.const 2048) (i32.const 145)))
    (i32.const 0))
  (func (export "wop_on_complete") (param $token i32) (param $status i32) (param $ptr i32) (param $len i32) (result i32)
    (drop (call $reconcile_done (global.get $reconcile) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
    (i32.const 0))
)
