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
