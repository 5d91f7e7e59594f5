package kernels

import (
	"math"
	"math/rand"
	"testing"
)

// Every kernel set's Tanh is within a few ulps of math.Tanh, over the whole
// range (saturation included) and on lengths that end in partial vectors.
func TestTanhOnEverySet(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for _, name := range Available() {
		restore, err := Force(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 7, 17, 255, 1000} {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(r.NormFloat64() * 4)
			}
			src[0] = 20
			dst := make([]float32, n)
			Tanh(dst, src)
			gy := make([]float32, n)
			for i := range gy {
				gy[i] = float32(r.NormFloat64())
			}
			g := make([]float32, n)
			TanhBackward(g, gy, dst)
			for i, x := range src {
				want := math.Tanh(float64(x))
				if d := math.Abs(float64(dst[i]) - want); d > 4e-7*math.Max(math.Abs(want), 1e-3) {
					t.Fatalf("%s, n=%d: tanh(%v) = %v, want %v", name, n, x, dst[i], want)
				}
				wantG := float64(gy[i]) * (1 - float64(dst[i])*float64(dst[i]))
				if d := math.Abs(float64(g[i]) - wantG); d > 1e-6*math.Max(math.Abs(wantG), 1) {
					t.Fatalf("%s, n=%d: tanh gradient %v, want %v", name, n, g[i], wantG)
				}
			}
		}
		restore()
	}
}

// Tanh of NaN is NaN on every set, in a whole vector and past it: the
// clamp's Min and Max would otherwise turn it into ±1, its sign depending
// on the operand order the compiler picked.
func TestTanhKeepsNaN(t *testing.T) {
	forEachVecPath(t, func(t *testing.T) {
		for _, n := range []int{1, 8, 16, 17} {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(math.NaN())
			}
			dst := make([]float32, n)
			Tanh(dst, src)
			for i, y := range dst {
				if y == y {
					t.Fatalf("n=%d: tanh(NaN) at %d = %v, want NaN", n, i, y)
				}
			}
		}
	})
}
