;; swap_memory: the guest of the swap benchmark (bench/swap/swap_bench.cc). ABI v1 shaped so the
;; runtime loads it like any operator, but it never declares anything: the benchmark grows and
;; fills its memory from the host side and calls the bench_* exports directly.
;;   bench_read(addr) -> i64            one word, to check a restored memory holds the data
;;   bench_touch() -> i64               reads one word per 4 KiB page of the whole memory
;;   bench_dirty(first, count, stride)  writes one word at first + k*stride, k < count
;; Its only mutable global is exported, so a snapshot captures it (module_state_check.h).
(module
  (memory (export "memory") 1)
  (global $generation (export "bench_generation") (mut i32) (i32.const 0))
  (func (export "wop_abi_version_1"))
  (func (export "wop_alloc") (param $len i32) (result i32) (i32.const 0))
  (func (export "wop_init") (result i32) (i32.const 0))
  (func (export "wop_reconcile") (param i32 i32 i32 i32) (result i32) (i32.const 0))
  (func (export "wop_on_complete") (param i32 i32 i32 i32) (result i32) (i32.const 0))
  (func (export "bench_read") (param $addr i32) (result i64)
    (i64.load (local.get $addr)))
  (func (export "bench_touch") (result i64)
    (local $p i32) (local $end i32) (local $sum i64)
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $sum (i64.add (local.get $sum) (i64.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 4096)))
        (br $next)))
    (local.get $sum))
  (func (export "bench_dirty") (param $first i32) (param $count i32) (param $stride i32) (result i32)
    (local $k i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        (i64.store (i32.add (local.get $first) (i32.mul (local.get $k) (local.get $stride)))
                   (i64.add (i64.extend_i32_u (local.get $k)) (i64.const 0x5eed5eed5eed5eed)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (global.set $generation (i32.add (global.get $generation) (i32.const 1)))
    (local.get $count))
)
