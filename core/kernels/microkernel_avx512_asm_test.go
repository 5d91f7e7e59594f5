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
