//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"

	"github.com/klauspost/cpuid/v2"
)

// The archsimd AVX-512 set ("avx512-archsimd"; the default "avx512" set in
// microkernel_avx512_asm.go reuses its vector helpers and NT kernel with a
// Go-assembly micro-kernel). The micro-kernel is 3 rows × 48 columns: nine zmm
// accumulators, three B vectors, one broadcast A value and the copy of it
// that MulAdd needs (its result overwrites the multiplicand, so a broadcast
// used three times is copied twice) — 14 of the 15 vector registers Go's
// register allocator uses (X0–X14; X15 is the ABI's zero register, and
// X16–X31 are not allocated). Shapes with more accumulators (4×48, 6×32)
// spill inside the loop and run at half speed; 4×32 (~105 GFLOP/s) and
// 2×64 (~115) fit but measured slower than 3×48 (~120) on one core.
// TestSIMDCodegen guards the register budget.
//
// What caps it: archsimd has no FMA with a broadcast memory operand
// (VFMADD231PS m32{1to16}), so each A value costs a VBROADCASTSS on port 5,
// which 512-bit FMAs also need; 9 FMAs + 3 broadcasts on two ports is 75%
// of the ~170 GFLOP/s peak (a Go-assembly loop with embedded broadcasts
// measured 160 on this core). Register copies and the rotation moves at the
// loop's back edge turned out free (unrolling that removed half of them
// changed nothing).
var avx512Set = &kernelSet{
	name:  "avx512-archsimd",
	desc:  "avx512-archsimd (simd/archsimd, 3×48 zmm register block)",
	needs: []cpuid.FeatureID{cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512CD},

	mr: 3, nr: 48,
	micro: kernel3x48AVX512,
	// A 48-wide B sliver of kc rows stays in the 48 KiB L1 next to the A
	// slivers streaming past it: 128·48·4 = 24 KiB. Blocks of 480 rows of A
	// (240 KiB) stay in the 2 MiB L2.
	kc: 128, mc: 480, nc: 3072,
	// Reading B in place beat packing it for every m up to 1024 measured,
	// but lost at 2048 (a 8 KiB row stride maps a sliver's rows onto few
	// cache sets).
	directMaxM: 512,
	packBT:     transpose16AVX512asm,

	ntKernel: kernelDot2x4AVX512,
	ntKC:     1024, ntMC: 256,

	axpy:         axpyAVX512,
	scale:        scaleAVX512,
	add:          addAVX512,
	mulAdd:       mulAddAVX512,
	scaleShift:   scaleShiftAVX512,
	shiftRows:    shiftRowsAVX512,
	mulShift:     mulShiftAVX512,
	relu:         reluAVX512,
	reluBackward: reluBackwardAVX512,
	dot:          dotAVX512,
	mul:          mulAVX512,
	sum:          sumAVX512,
}

var _ = register(avx512Set)

type f16 = archsimd.Float32x16

func ld16(p unsafe.Pointer) f16    { return archsimd.LoadFloat32x16((*[16]float32)(p)) }
func st16(p unsafe.Pointer, v f16) { v.Store((*[16]float32)(p)) }

// kernel3x48AVX512 is a microKernel (see dispatch.go).
//
// The loop is written as a single basic block (its test at the bottom) with
// every operation inline in the order it should issue. Go's scheduler
// orders a block's values by source position only when they tie on "has a
// use in this block"; in a loop whose test is at the top the FMA results are
// used only by the next iteration's phis, in another block, so all loads
// would be hoisted above all FMAs and the live vectors would spill.
func kernel3x48AVX512(k int, a, b *float32, bStride uintptr, c *float32, ldc int, beta uint32) {
	pa, pb := unsafe.Pointer(a), unsafe.Pointer(b)
	var c00, c01, c02, c10, c11, c12, c20, c21, c22 f16
	var z archsimd.Float32x4
	for {
		b0 := archsimd.LoadFloat32x16((*[16]float32)(pb))
		b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pb, 64)))
		b2 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pb, 128)))
		a0 := z.SetElem(0, *(*float32)(pa)).Broadcast1To16()
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		c02 = a0.MulAdd(b2, c02)
		a1 := z.SetElem(0, *(*float32)(unsafe.Add(pa, 4))).Broadcast1To16()
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		c12 = a1.MulAdd(b2, c12)
		a2 := z.SetElem(0, *(*float32)(unsafe.Add(pa, 8))).Broadcast1To16()
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		c22 = a2.MulAdd(b2, c22)
		k--
		if k == 0 {
			break
		}
		// Advancing after the test keeps the pointers inside the panels:
		// one past the end is not a valid unsafe.Pointer.
		pa = unsafe.Add(pa, 12)
		pb = unsafe.Add(pb, bStride)
	}
	p0 := unsafe.Pointer(c)
	p1 := unsafe.Add(p0, ldc*4)
	p2 := unsafe.Add(p1, ldc*4)
	if beta == 0 {
		st16(p0, c00)
		st16(unsafe.Add(p0, 64), c01)
		st16(unsafe.Add(p0, 128), c02)
		st16(p1, c10)
		st16(unsafe.Add(p1, 64), c11)
		st16(unsafe.Add(p1, 128), c12)
		st16(p2, c20)
		st16(unsafe.Add(p2, 64), c21)
		st16(unsafe.Add(p2, 128), c22)
		archsimd.ClearAVXUpperBits()
		return
	}
	bv := archsimd.BroadcastUint32x16(beta).AsFloat32x16()
	st16(p0, bv.MulAdd(ld16(p0), c00))
	st16(unsafe.Add(p0, 64), bv.MulAdd(ld16(unsafe.Add(p0, 64)), c01))
	st16(unsafe.Add(p0, 128), bv.MulAdd(ld16(unsafe.Add(p0, 128)), c02))
	st16(p1, bv.MulAdd(ld16(p1), c10))
	st16(unsafe.Add(p1, 64), bv.MulAdd(ld16(unsafe.Add(p1, 64)), c11))
	st16(unsafe.Add(p1, 128), bv.MulAdd(ld16(unsafe.Add(p1, 128)), c12))
	st16(p2, bv.MulAdd(ld16(p2), c20))
	st16(unsafe.Add(p2, 64), bv.MulAdd(ld16(unsafe.Add(p2, 64)), c21))
	st16(unsafe.Add(p2, 128), bv.MulAdd(ld16(unsafe.Add(p2, 128)), c22))
	archsimd.ClearAVXUpperBits()
}
