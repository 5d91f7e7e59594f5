//go:build goexperiment.simd && amd64

package kernels

import "github.com/klauspost/cpuid/v2"

// Go-assembly AVX2+FMA micro-kernels (microkernel_avx2_amd64.s), for CPUs
// without AVX-512. They keep the microKernel contract (dispatch.go) and
// exist for the reason the AVX-512 ones do: in archsimd, Go's register
// allocator spills past 8–10 accumulators, so the archsimd 4×16 block
// (avx2-archsimd) ran at about half of OpenBLAS's Haswell kernels; these
// hold 12 accumulators in 16 ymm registers and broadcast A from memory.

//go:noescape
func kernel6x16AVX2asm(k int, a, b *float32, bStride uintptr, c *float32, ldc int, beta uint32)

//go:noescape
func kernel4x24AVX2asm(k int, a, b *float32, bStride uintptr, c *float32, ldc int, beta uint32)

// avx2AsmSet derives a kernel set from the archsimd AVX2 set (same vector
// helpers and NT dot kernel) with an assembly micro-kernel and packs.
func avx2AsmSet(name, desc string, mr, nr int, micro microKernel, packRows, packCols aPacker, packCopy bCopier) *kernelSet {
	s := *avx2Set
	s.name, s.desc = name, desc
	s.needs = []cpuid.FeatureID{cpuid.AVX, cpuid.AVX2, cpuid.FMA3}
	s.mr, s.nr, s.micro = mr, nr, micro
	s.packRows, s.packCols, s.packCopy = packRows, packCols, packCopy
	s.packBT, s.btCols = transpose8AVX2asm, 8
	// Reading B in place beat packing it up to 128 rows (by 40% at a
	// batch of 16) and lost from 256 (by 6–10% at 512×512×512).
	s.directMaxM = 128
	s.ntCost = avx2NTCost
	s.kc, s.mc, s.nc = cacheBlocks(mr, nr, cpu.Cache.L1D, cpu.Cache.L2)
	return &s
}

// avx2NTCost was fitted on one core (the AVX2 sets forced on an AVX-512
// Xeon, so the same core and caches as the AVX-512 fit; thread CPU time,
// which a shared machine's other load disturbs least) to both paths' rates
// for A·Bᵀ with m from 16 to 512, n of 10 and 256, k of 256 and 784. The
// MLP's layers come out as: the 256-output layers on the packed path from
// a batch of 24 up, at 79–93 GFLOP/s against the dot kernel's 61–68 (at
// 16, a tie at 62–65, on the dot kernel); the 10-output layer on the dot
// kernel at any batch (47–50 against 24–43).
var avx2NTCost = &ntCostModel{dotRate: 31, packedRate: 49, packNs: 0.17}

// cacheBlocks sizes the cache blocks of an mr×nr micro-kernel from the L1
// data cache and the L2 (in bytes, as cpuid reports them; 0 or less if it
// does not), as Goto's paper does: a kc-row B sliver fills half of L1,
// leaving the other half to the A sliver streaming past it and to C, and
// an mc×kc block of A fills half of L2, leaving the rest to the B panel's
// slivers passing through, but no more than 512 KiB: on a 2 MiB L2, 678
// rows of 384 ran 1024³ and 2048³ at 80 GFLOP/s, 336 rows at 86. Without
// cpuid's word, 32 KiB and 256 KiB (the smallest of the AVX2 CPUs,
// Haswell to Skylake client) are assumed: on those and Zen 2/3's 32 KiB
// L1, kc is 256 for 6×16. Blocks of 3072 columns of B (3 MiB at kc = 256)
// stay in the L3 of any of them, and nc mattered little here.
func cacheBlocks(mr, nr, l1, l2 int) (kc, mc, nc int) {
	if l1 <= 0 {
		l1 = 32 << 10
	}
	if l2 <= 0 {
		l2 = 256 << 10
	}
	kc = min(max(l1/2/(nr*4)/32*32, 128), 512)
	mc = max(min(l2/2, 512<<10)/(kc*4), 4*mr) / mr * mr
	return kc, mc, 3072
}

// 6×16 is BLIS's haswell shape: per k step two B loads and six broadcasts
// feed twelve FMAs. 4×24 (three B vectors, four broadcasts) does the same
// work per step and stays as the alternative for row counts that pad
// badly to 6, such as a batch of 16 (18 rows computed for 16).
var (
	avx2Asm4x24 = avx2AsmSet("avx2-asm4x24", "avx2-asm4x24 (Go assembly, 4×24 ymm, broadcasts from memory)", 4, 24, kernel4x24AVX2asm, packRows4AVX2asm, packCols4AVX2asm, copy24AVX2asm)
	avx2Asm     = func() *kernelSet {
		s := avx2AsmSet("avx2", "avx2+fma (Go assembly, 6×16 ymm or 4×24 by shape, broadcasts from memory)", 6, 16, kernel6x16AVX2asm, packRows6AVX2asm, packCols6AVX2asm, copy16AVX2asm)
		s.alt = avx2Asm4x24
		return s
	}()
	_ = register(avx2Asm4x24)
	_ = register(avx2Asm)
)
