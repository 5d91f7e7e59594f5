//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// kernelDot2x4AVX2 is kernelDot2x4AVX512 (see dotkernel_avx512.go) on
// 8-lane vectors.
func kernelDot2x4AVX2(k int, a unsafe.Pointer, lda uintptr, t *dotTile) {
	// Few values stay in registers across the pair loop (the rest live in
	// t): eight general registers go to the inner loop's pointers and
	// counters, and more would spill there.
	full := uintptr(k/8) * 32
	a0 := a
	for i := 0; ; {
		b0, b1, b2, b3 := t.b[0], t.b[1], t.b[2], t.b[3]
		var s00, s01, s02, s03, s10, s11, s12, s13 f8
		off := uintptr(0)
		if full > 0 {
			for {
				x0 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(a0, off)))
				x1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(a0, off+lda)))
				y := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b0, off)))
				s00 = y.MulAdd(x0, s00)
				s10 = y.MulAdd(x1, s10)
				y = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b1, off)))
				s01 = y.MulAdd(x0, s01)
				s11 = y.MulAdd(x1, s11)
				y = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b2, off)))
				s02 = y.MulAdd(x0, s02)
				s12 = y.MulAdd(x1, s12)
				y = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b3, off)))
				s03 = y.MulAdd(x0, s03)
				s13 = y.MulAdd(x1, s13)
				off += 32
				if off == full {
					break
				}
			}
		}
		if rem := k % 8; rem > 0 {
			tail := func(p unsafe.Pointer) f8 {
				return loadPart8(unsafe.Slice((*float32)(unsafe.Add(p, off)), rem))
			}
			x0, x1 := tail(a0), tail(unsafe.Add(a0, lda))
			y := tail(b0)
			s00 = y.MulAdd(x0, s00)
			s10 = y.MulAdd(x1, s10)
			y = tail(b1)
			s01 = y.MulAdd(x0, s01)
			s11 = y.MulAdd(x1, s11)
			y = tail(b2)
			s02 = y.MulAdd(x0, s02)
			s12 = y.MulAdd(x1, s12)
			y = tail(b3)
			s03 = y.MulAdd(x0, s03)
			s13 = y.MulAdd(x1, s13)
		}
		r := hsum8x8(s00, s01, s02, s03, s10, s11, s12, s13)
		storeDotTile(r, unsafe.Add(t.c, uintptr(2*i)*t.ldc), t.ldc, t.alpha, t.beta)
		i++
		if i == t.pairs {
			break
		}
		a0 = unsafe.Add(a0, 2*lda)
	}
	archsimd.ClearAVXUpperBits()
}
