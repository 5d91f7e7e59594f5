//go:build goexperiment.simd && amd64

package kernels

import "testing"

// TestForShape checks that the "avx512" set hands the shapes that pad badly
// to 12 rows (batch 16 in the MLP) to its 8×48 block, and keeps 12×32
// otherwise, so that the shape tests run both blocks under that path.
func TestForShape(t *testing.T) {
	for _, c := range []struct {
		m, n int
		want string
	}{
		{16, 784, "avx512-asm8x48"}, // 24×800 padded for 12×32, 16×816 for 8×48
		{16, 256, "avx512-asm8x48"},
		{256, 256, "avx512"},
		{10, 256, "avx512"},
		{512, 512, "avx512"},
	} {
		g := &gemmArgs{m: c.m, n: c.n, k: 64}
		if got := avx512Asm.forShape(g).name; got != c.want {
			t.Errorf("m=%d n=%d: forShape chose %s, want %s", c.m, c.n, got, c.want)
		}
	}
}

// TestNTChoice checks where the "avx512" set's cost model sends the MLP's
// forward products x·Wᵀ (m = batch, n = outputs, k = inputs).
func TestNTChoice(t *testing.T) {
	for _, c := range []struct {
		m, n, k int
		dot     bool
	}{
		{16, 256, 784, true}, // too few rows to repay transposing W
		{16, 256, 256, true},
		{64, 256, 784, false},
		{128, 256, 784, false},
		{512, 256, 256, false},
		{128, 10, 256, true}, // 10 columns padded to 32 (or 48) by the packed path, to 12 by the dot kernel
		{512, 10, 256, true},
	} {
		g := &gemmArgs{transB: true, m: c.m, n: c.n, k: c.k}
		if got := useNT(avx512Asm, g); got != c.dot {
			t.Errorf("m=%d n=%d k=%d: dot kernel %v, want %v", c.m, c.n, c.k, got, c.dot)
		}
	}
}
