;; bounds_loop: the guest of the bounds-check benchmark (bench/vm/vm_bench.cc). Each function
;; spends its time on loads and stores at addresses computed at run time, the accesses whose
;; bounds compiled code checks when guard pages do not.
;;   sweep(bytes, passes) -> i64    every 4-byte word of [0, bytes): load, add, store back
;;   gather(bytes, count) -> i64    count loads at pseudo-random words of [0, bytes) (a
;;                                  power of two), each address from the value loaded before
(module
  (memory (export "memory") 1)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "sweep") (param $bytes i32) (param $passes i32) (result i64)
    (local $pass i32) (local $p i32) (local $v i32) (local $sum i64)
    (block $done
      (loop $passes
        (br_if $done (i32.ge_u (local.get $pass) (local.get $passes)))
        (local.set $p (i32.const 0))
        (block $end
          (loop $words
            (br_if $end (i32.ge_u (local.get $p) (local.get $bytes)))
            (local.set $v (i32.load (local.get $p)))
            (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_u (local.get $v))))
            (i32.store (local.get $p) (i32.add (local.get $v) (local.get $pass)))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $words)))
        (local.set $pass (i32.add (local.get $pass) (i32.const 1)))
        (br $passes)))
    (local.get $sum))
  (func (export "gather") (param $bytes i32) (param $count i32) (result i64)
    (local $k i32) (local $x i32) (local $sum i64)
    (local.set $x (i32.const 0x9e3779b9))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        ;; xorshift of the state mixed with the word just loaded: a dependent chain of loads
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
        (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
        (local.set $x (i32.add (local.get $x)
          (i32.load (i32.and (local.get $x) (i32.sub (local.get $bytes) (i32.const 4))))))
        (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_u (local.get $x))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $sum))
)
