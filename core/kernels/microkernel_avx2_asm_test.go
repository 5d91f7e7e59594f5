//go:build goexperiment.simd && amd64

package kernels

import (
	"math/rand"
	"testing"
)

// TestAVX2AsmMicroKernels checks each AVX2 assembly micro-kernel alone as
// TestAsmMicroKernels does the AVX-512 ones: every k from 1 to 40 (the
// unrolled loop empty, partial and full, the remainder loop each length),
// with and without beta, into a C wider and taller than the tile whose
// other values must survive.
func TestAVX2AsmMicroKernels(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	for _, ks := range []*kernelSet{avx2Asm, avx2Asm4x24} {
		t.Run(ks.name, func(t *testing.T) {
			skipUnlessRuns(t, ks)
			checkMicroKernel(t, r, ks)
		})
	}
}

// TestAVX2ForShape checks that the "avx2" set hands the row counts that
// pad badly to 6 (a batch of 16) to its 4×24 block and keeps 6×16
// otherwise, so that the GEMM tests run both blocks under that path.
func TestAVX2ForShape(t *testing.T) {
	checkForShape(t, avx2Asm, []shapeChoice{
		{16, 784, "avx2-asm4x24"}, // 18×784 padded for 6×16, 16×792 for 4×24
		{16, 256, "avx2-asm4x24"},
		{128, 256, "avx2"},         // a tie stays on the main block
		{128, 784, "avx2-asm4x24"}, // 132×784 against 128×792
		{132, 784, "avx2"},
		{256, 784, "avx2"},
		{10, 256, "avx2"},
		{512, 512, "avx2"},
	})
}

// TestAVX2NTChoice checks where the "avx2" set's cost model sends the
// MLP's forward products x·Wᵀ (m = batch, n = outputs, k = inputs).
func TestAVX2NTChoice(t *testing.T) {
	checkNTChoice(t, avx2Asm, []ntChoice{
		{16, 256, 784, true}, // a tie (62–65 GFLOP/s either way)
		{24, 256, 784, false},
		{64, 256, 784, false},
		{128, 256, 784, false},
		{128, 256, 256, false},
		{512, 256, 256, false},
		{16, 10, 256, true}, // 10 columns padded to 16 by the packed path, to 12 by the dot kernel
		{128, 10, 256, true},
		{512, 10, 256, true},
	})
}

// TestCacheBlocks checks the block sizes cacheBlocks derives for the CPUs
// the AVX2 set is for, and that they stay sane when cpuid tells nothing.
func TestCacheBlocks(t *testing.T) {
	for _, c := range []struct {
		mr, nr, l1, l2 int
		kc, mc         int
	}{
		{6, 16, 32 << 10, 512 << 10, 256, 252}, // Zen 2/3
		{6, 16, 32 << 10, 256 << 10, 256, 126}, // Haswell to Skylake client
		{6, 16, 48 << 10, 2 << 20, 384, 336},   // this set forced on an AVX-512 Xeon
		{6, 16, 0, -1, 256, 126},               // cpuid unsure: the smallest
		{4, 24, 32 << 10, 512 << 10, 160, 408},
	} {
		kc, mc, nc := cacheBlocks(c.mr, c.nr, c.l1, c.l2)
		if kc != c.kc || mc != c.mc || mc%c.mr != 0 || nc%c.nr != 0 {
			t.Errorf("%d×%d with L1 %d, L2 %d: kc=%d mc=%d nc=%d, want kc=%d mc=%d (whole tiles)", c.mr, c.nr, c.l1, c.l2, kc, mc, nc, c.kc, c.mc)
		}
	}
}
