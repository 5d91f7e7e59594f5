//go:build goexperiment.simd && amd64

package kernels

// Go-assembly AVX-512 micro-kernels (microkernel_avx512_amd64.s). They keep
// the microKernel contract (dispatch.go) and exist because archsimd has no
// FMA with an embedded-broadcast memory operand: in assembly each A value
// is a {1to16} operand of VFMADD231PS (a load-port µop, fused with the FMA)
// instead of a separate broadcast on port 5, and all 32 zmm registers are
// available for accumulators.

//go:noescape
func kernel8x48AVX512asm(k int, a, b *float32, bStride uintptr, c *float32, ldc int, beta uint32)

//go:noescape
func kernel12x32AVX512asm(k int, a, b *float32, bStride uintptr, c *float32, ldc int, beta uint32)

// asmSet derives a kernel set from the archsimd AVX-512 set (same vector
// helpers and NT kernel) with an assembly micro-kernel.
func asmSet(name, desc string, mr, nr, kc, mc int, micro microKernel, packRows, packCols aPacker, packCopy bCopier) *kernelSet {
	s := *avx512Set
	s.name, s.desc = name, desc
	s.mr, s.nr, s.kc, s.mc = mr, nr, kc, mc
	// A kc×1024 panel of B (1 MB at kc = 256) leaves half of L2 to the A
	// block; 3072 columns (3 MB) made 2048³ on one thread 4% slower.
	s.nc = 1024
	s.micro, s.packRows, s.packCols, s.packCopy = micro, packRows, packCols, packCopy
	s.ntCost = asmNTCost
	return &s
}

// asmNTCost was fitted on one core to both paths' times for A·Bᵀ with m
// from 16 to 512, n from 10 to 256 and k of 256 and 784: within 5% of the
// faster path on 41 of 42 shapes. The MLP's layers come out as: batch 16
// and 25–32 on the dot kernel, 24 and from 33 on the packed path for 256
// outputs (the padding of 12-row tiles decides between), and the 10-output
// layer on the dot kernel at any batch.
var asmNTCost = &ntCostModel{dotRate: 50, packedRate: 70, packNs: 0.12}

// Both blocks use 24 accumulators out of the 32 zmm registers and run at
// ~170 GFLOP/s on panels in L1/L2 (BenchmarkMicroKernel), the core's peak.
// In Sgemm 12×32 was the faster (square 512–2048: ~145–150 against ~130–140
// GFLOP/s for 8×48 and ~120 for archsimd 3×48): its B sliver is narrower,
// so kc can be 256 (32·256·4 = 32 KiB of B in the 48 KiB L1, 12 KiB of A
// next to it), halving the C tile reloads of kc = 128. 8×48 stays as the
// alternative for products whose row count pads badly to 12 (batch 16:
// 24 rows computed for 16); see kernelSet.forShape. A 6×64 block measured
// ~120–140 in the micro-benchmark alone and was dropped.
var (
	avx512Asm8x48 = asmSet("avx512-asm8x48", "avx512-asm8x48 (Go assembly, 8×48 zmm, embedded broadcasts)", 8, 48, 128, 480, kernel8x48AVX512asm, packRows8AVX512asm, packCols8AVX512asm, copy48AVX512asm)
	avx512Asm     = func() *kernelSet {
		s := asmSet("avx512", "avx512 (Go assembly, 12×32 zmm or 8×48 by shape, embedded broadcasts)", 12, 32, 256, 480, kernel12x32AVX512asm, packRows12AVX512asm, packCols12AVX512asm, copy32AVX512asm)
		s.alt = avx512Asm8x48
		return s
	}()
	_ = register(avx512Asm8x48)
	_ = register(avx512Asm)
)
