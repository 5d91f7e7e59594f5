//go:build goexperiment.simd && amd64

package kernels

import (
	"math"
	"math/rand"
	"testing"
)

// TestForShape checks that the "avx512" set hands the shapes that pad badly
// to 12 rows (batch 16 in the MLP) to its 8×48 block, and keeps 12×32
// otherwise, so that the shape tests run both blocks under that path.
func TestForShape(t *testing.T) {
	checkForShape(t, avx512Asm, []shapeChoice{
		{16, 784, "avx512-asm8x48"}, // 24×800 padded for 12×32, 16×816 for 8×48
		{16, 256, "avx512-asm8x48"},
		{256, 256, "avx512"},
		{10, 256, "avx512"},
		{512, 512, "avx512"},
	})
}

// shapeChoice is an m×n product and the set forShape should pick for it.
type shapeChoice struct {
	m, n int
	want string
}

func checkForShape(t *testing.T, ks *kernelSet, cases []shapeChoice) {
	t.Helper()
	for _, c := range cases {
		g := &gemmArgs{m: c.m, n: c.n, k: 64}
		if got := ks.forShape(g).name; got != c.want {
			t.Errorf("m=%d n=%d: forShape chose %s, want %s", c.m, c.n, got, c.want)
		}
	}
}

// TestNTChoice checks where the "avx512" set's cost model sends the MLP's
// forward products x·Wᵀ (m = batch, n = outputs, k = inputs).
func TestNTChoice(t *testing.T) {
	checkNTChoice(t, avx512Asm, []ntChoice{
		{16, 256, 784, true}, // too few rows to repay transposing W
		{16, 256, 256, true},
		{64, 256, 784, false},
		{128, 256, 784, false},
		{512, 256, 256, false},
		{128, 10, 256, true}, // 10 columns padded to 32 (or 48) by the packed path, to 12 by the dot kernel
		{512, 10, 256, true},
	})
}

// ntChoice is an A·Bᵀ product and whether useNT gives it to the dot kernel.
type ntChoice struct {
	m, n, k int
	dot     bool
}

func checkNTChoice(t *testing.T, ks *kernelSet, cases []ntChoice) {
	t.Helper()
	for _, c := range cases {
		g := &gemmArgs{transB: true, m: c.m, n: c.n, k: c.k}
		if got := useNT(ks, g); got != c.dot {
			t.Errorf("%s m=%d n=%d k=%d: dot kernel %v, want %v", ks.name, c.m, c.n, c.k, got, c.dot)
		}
	}
}

// TestAsmMicroKernels checks each assembly micro-kernel alone against a
// float64 reference for every k from 1 to 40 (which leaves each of the
// 12×32 kernel's three loops empty, partial and full), with and without
// beta, writing into a C wider than the tile: the values next to it must
// survive.
func TestAsmMicroKernels(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for _, ks := range []*kernelSet{avx512Asm, avx512Asm8x48} {
		t.Run(ks.name, func(t *testing.T) {
			skipUnlessRuns(t, ks)
			checkMicroKernel(t, r, ks)
		})
	}
}

func checkMicroKernel(t *testing.T, r *rand.Rand, ks *kernelSet) {
	{
		mr, nr := ks.mr, ks.nr
		ldc := nr + 5
		for k := 1; k <= 40; k++ {
			a, b := randSlice(r, mr*k), randSlice(r, nr*k)
			for _, beta := range []float32{0, 0.5} {
				c := randSlice(r, (mr+1)*ldc)
				old := append([]float32(nil), c...)
				ks.micro(k, &a[0], &b[0], uintptr(nr*4), &c[0], ldc, math.Float32bits(beta))
				for i := 0; i <= mr; i++ {
					for j := 0; j < ldc; j++ {
						got := c[i*ldc+j]
						if i == mr || j >= nr {
							if !sameBits(got, old[i*ldc+j]) {
								t.Fatalf("%s k=%d: C[%d][%d] outside the tile changed", ks.name, k, i, j)
							}
							continue
						}
						var want, bound float64
						for p := 0; p < k; p++ {
							x := float64(a[p*mr+i]) * float64(b[p*nr+j])
							want += x
							bound += math.Abs(x)
						}
						want += float64(beta) * float64(old[i*ldc+j])
						bound += math.Abs(float64(beta) * float64(old[i*ldc+j]))
						if d := math.Abs(float64(got) - want); d > 1e-5*bound {
							t.Fatalf("%s k=%d beta=%v: C[%d][%d] = %v, want %v", ks.name, k, beta, i, j, got, want)
						}
					}
				}
			}
		}
	}
}
