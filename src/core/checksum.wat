;; The envelope checksum's inner loop (see checksum.ts), four 128-bit lanes wide.
;;
;; Memory (one 64 KiB page): bytes 0-63 hold four i32x4 accumulators, bytes 64 … 64+len the
;; chunk that JavaScript copied in. `fold(len)` (len a multiple of 64) multiplies each
;; accumulator by M and adds the next 16 bytes, accumulator u taking every fourth vector.
;; Word lanes 0 and 2 of a vector are words of the even sequence (multiplier 31 per word in
;; the scalar form), lanes 1 and 3 of the odd one (37); each lane steps 8 words of its
;; sequence at a time, hence M = [31^8, 37^8, 31^8, 37^8] mod 2^32. checksum.ts combines the
;; 16 lanes into the scalar result exactly (all of it is arithmetic mod 2^32).
;;
;; Build: npm run build:wasm (writes checksum.wasm, which is committed; a test checks the two agree).
(module
  (memory (export "memory") 1)
  (func (export "fold") (param $len i32)
    (local $p i32) (local $end i32) (local $m v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    ;; 31^8 = 2487512833, 37^8 = 3491173089 (mod 2^32), as signed i32
    (local.set $m (v128.const i32x4 -1807454463 -803794207 -1807454463 -803794207))
    (local.set $a0 (v128.load offset=0 (i32.const 0)))
    (local.set $a1 (v128.load offset=16 (i32.const 0)))
    (local.set $a2 (v128.load offset=32 (i32.const 0)))
    (local.set $a3 (v128.load offset=48 (i32.const 0)))
    (local.set $p (i32.const 64))
    (local.set $end (i32.add (i32.const 64) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $a0 (i32x4.add (i32x4.mul (local.get $a0) (local.get $m)) (v128.load offset=0 (local.get $p))))
        (local.set $a1 (i32x4.add (i32x4.mul (local.get $a1) (local.get $m)) (v128.load offset=16 (local.get $p))))
        (local.set $a2 (i32x4.add (i32x4.mul (local.get $a2) (local.get $m)) (v128.load offset=32 (local.get $p))))
        (local.set $a3 (i32x4.add (i32x4.mul (local.get $a3) (local.get $m)) (v128.load offset=48 (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $next)))
    (v128.store offset=0 (i32.const 0) (local.get $a0))
    (v128.store offset=16 (i32.const 0) (local.get $a1))
    (v128.store offset=32 (i32.const 0) (local.get $a2))
    (v128.store offset=48 (i32.const 0) (local.get $a3))))
