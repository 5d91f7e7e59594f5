package kernels

import (
	"math"
	"math/rand"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func TestSgemmAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	sizes := []int{1, 2, 7, 16, 17, 63}
	for _, m := range sizes {
		for _, n := range sizes {
			for _, k := range sizes {
				for _, ta := range []bool{false, true} {
					for _, tb := range []bool{false, true} {
						lda, ldb := k, n
						if ta {
							lda = m
						}
						if tb {
							ldb = k
						}
						a, b := randSlice(r, m*k), randSlice(r, k*n)
						c := randSlice(r, m*n)
						want := append([]float32(nil), c...)
						NaiveGemm(ta, tb, m, n, k, 0.7, a, lda, b, ldb, 0.3, want, n)
						Sgemm(ta, tb, m, n, k, 0.7, a, lda, b, ldb, 0.3, c, n)
						for i := range c {
							if d := math.Abs(float64(c[i] - want[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) {
								t.Fatalf("m=%d n=%d k=%d ta=%v tb=%v: c[%d]=%v want %v", m, n, k, ta, tb, i, c[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}
