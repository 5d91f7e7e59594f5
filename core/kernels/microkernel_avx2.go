//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"

	"github.com/klauspost/cpuid/v2"
)

// The archsimd AVX2+FMA set ("avx2-archsimd"; the default "avx2" set in
// microkernel_avx2_asm.go reuses its vector helpers and NT kernel with
// Go-assembly micro-kernels and packs). The micro-kernel is 4 rows × 16 columns: eight ymm accumulators (enough
// independent FMA chains to cover a 4-cycle latency on two FMA ports), two B
// vectors, a broadcast A value and its copy: 12 registers. 5×16, 3×24 and
// 2×32 measured the same; 6×16 needs 16 registers and spills.
var avx2Set = &kernelSet{
	name:  "avx2-archsimd",
	desc:  "avx2-archsimd (simd/archsimd, 4×16 ymm register block)",
	needs: []cpuid.FeatureID{cpuid.AVX, cpuid.AVX2, cpuid.FMA3},
	mr:    4, nr: 16,
	// The 16-wide B sliver: 256·16·4 = 16 KiB of L1.
	kc: 256, mc: 256, nc: 3072,
	micro:      kernel4x16AVX2,
	directMaxM: 512,
	ntKernel:   kernelDot2x4AVX2,
	ntKC:       2048, ntMC: 256,
	axpy:         axpyAVX2,
	scale:        scaleAVX2,
	add:          addAVX2,
	mulAdd:       mulAddAVX2,
	scaleShift:   scaleShiftAVX2,
	shiftRows:    shiftRowsAVX2,
	mulShift:     mulShiftAVX2,
	relu:         reluAVX2,
	reluBackward: reluBackwardAVX2,
	dot:          dotAVX2,
	mul:          mulAVX2,
	sum:          sumAVX2,
}

var _ = register(avx2Set)

type f8 = archsimd.Float32x8

func ld8(p unsafe.Pointer) f8    { return archsimd.LoadFloat32x8((*[8]float32)(p)) }
func st8(p unsafe.Pointer, v f8) { v.Store((*[8]float32)(p)) }

// kernel4x16AVX2 is a microKernel (see dispatch.go); the loop shape follows
// kernel3x48AVX512, whose comment explains it.
func kernel4x16AVX2(k int, a, b *float32, bStride uintptr, c *float32, ldc int, beta uint32) {
	pa, pb := unsafe.Pointer(a), unsafe.Pointer(b)
	var c00, c01, c10, c11, c20, c21, c30, c31 f8
	var z archsimd.Float32x4
	for {
		b0 := archsimd.LoadFloat32x8((*[8]float32)(pb))
		b1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(pb, 32)))
		a0 := z.SetElem(0, *(*float32)(pa)).Broadcast1To8()
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		a1 := z.SetElem(0, *(*float32)(unsafe.Add(pa, 4))).Broadcast1To8()
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		a2 := z.SetElem(0, *(*float32)(unsafe.Add(pa, 8))).Broadcast1To8()
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		a3 := z.SetElem(0, *(*float32)(unsafe.Add(pa, 12))).Broadcast1To8()
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
		k--
		if k == 0 {
			break
		}
		pa = unsafe.Add(pa, 16)
		pb = unsafe.Add(pb, bStride)
	}
	p0 := unsafe.Pointer(c)
	p1 := unsafe.Add(p0, ldc*4)
	p2 := unsafe.Add(p1, ldc*4)
	p3 := unsafe.Add(p2, ldc*4)
	if beta == 0 {
		st8(p0, c00)
		st8(unsafe.Add(p0, 32), c01)
		st8(p1, c10)
		st8(unsafe.Add(p1, 32), c11)
		st8(p2, c20)
		st8(unsafe.Add(p2, 32), c21)
		st8(p3, c30)
		st8(unsafe.Add(p3, 32), c31)
		archsimd.ClearAVXUpperBits()
		return
	}
	bv := archsimd.BroadcastUint32x8(beta).AsFloat32x8()
	st8(p0, bv.MulAdd(ld8(p0), c00))
	st8(unsafe.Add(p0, 32), bv.MulAdd(ld8(unsafe.Add(p0, 32)), c01))
	st8(p1, bv.MulAdd(ld8(p1), c10))
	st8(unsafe.Add(p1, 32), bv.MulAdd(ld8(unsafe.Add(p1, 32)), c11))
	st8(p2, bv.MulAdd(ld8(p2), c20))
	st8(unsafe.Add(p2, 32), bv.MulAdd(ld8(unsafe.Add(p2, 32)), c21))
	st8(p3, bv.MulAdd(ld8(p3), c30))
	st8(unsafe.Add(p3, 32), bv.MulAdd(ld8(unsafe.Add(p3, 32)), c31))
	archsimd.ClearAVXUpperBits()
}
