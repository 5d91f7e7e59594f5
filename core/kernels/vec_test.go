package kernels

import (
	"math"
	"math/rand"
	"testing"
)

// vecLengths straddle every vector width (8, 16) and the dot product's
// unrolled step (32, 64), so each SIMD body and tail is exercised.
var vecLengths = []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 255, 257}

// forEachVecPath runs f on every kernel set (the helpers are single-threaded).
func forEachVecPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, path := range allPaths {
		t.Run(path, func(t *testing.T) {
			restore, err := Force(path)
			if err != nil {
				t.Skip(err)
			}
			defer restore()
			f(t)
		})
	}
}

// specialSlice is random data with zeros, negative zeros, NaN and
// infinities sprinkled in, for the helpers whose scalar definition makes a
// choice on them.
func specialSlice(r *rand.Rand, n int) []float32 {
	s := randSlice(r, n)
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for i := range s {
		if r.Intn(5) == 0 {
			s[i] = specials[r.Intn(len(specials))]
		}
	}
	return s
}

// closeTo allows one rounding of difference (FMA versus multiply-then-add).
func closeTo(got, want float32) bool {
	if got == want || (got != got && want != want) {
		return true
	}
	return math.Abs(float64(got-want)) <= 2e-7*math.Max(1, math.Abs(float64(want)))
}

func TestAxpy(t *testing.T) {
	r := rand.New(rand.NewSource(10))
	forEachVecPath(t, func(t *testing.T) {
		for _, n := range vecLengths {
			x, y := randSlice(r, n+3), randSlice(r, n+3)
			want := append([]float32(nil), y...)
			for i := 0; i < n; i++ {
				want[i] += -0.75 * x[i]
			}
			Axpy(-0.75, x[:n], y[:n])
			for i := range y {
				if !closeTo(y[i], want[i]) {
					t.Fatalf("n=%d: y[%d] = %v, want %v", n, i, y[i], want[i])
				}
			}
		}
	})
}

func TestScale(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	forEachVecPath(t, func(t *testing.T) {
		for _, n := range vecLengths {
			x := randSlice(r, n+3)
			want := append([]float32(nil), x...)
			for i := 0; i < n; i++ {
				want[i] *= 1.5
			}
			Scale(1.5, x[:n])
			if !bitsEqual(x, want) {
				t.Fatalf("n=%d: got %v, want %v", n, x, want)
			}
		}
	})
}

func TestAddRowVectorAndSumRows(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	forEachVecPath(t, func(t *testing.T) {
		for _, cols := range vecLengths {
			for _, rows := range []int{0, 1, 3, 17} {
				c, v := randSlice(r, rows*cols), randSlice(r, cols)
				want := append([]float32(nil), c...)
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						want[i*cols+j] += v[j]
					}
				}
				AddRowVector(c, rows, cols, v)
				if !bitsEqual(c, want) {
					t.Fatalf("AddRowVector %d×%d: got %v, want %v", rows, cols, c, want)
				}

				dst := randSlice(r, cols)
				wantSum := append([]float32(nil), dst...)
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						wantSum[j] += c[i*cols+j]
					}
				}
				SumRows(dst, c, rows, cols)
				if !bitsEqual(dst, wantSum) {
					t.Fatalf("SumRows %d×%d: got %v, want %v", rows, cols, dst, wantSum)
				}
			}
		}
	})
}

func TestReLU(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	forEachVecPath(t, func(t *testing.T) {
		for _, n := range vecLengths {
			src := specialSlice(r, n)
			want := make([]float32, n)
			for i, v := range src {
				if v > 0 {
					want[i] = v
				}
			}
			dst := randSlice(r, n)
			ReLU(dst, src)
			if !bitsEqual(dst, want) {
				t.Fatalf("n=%d: ReLU(%v) = %v, want %v", n, src, dst, want)
			}
			ReLU(src, src) // in place
			if !bitsEqual(src, want) {
				t.Fatalf("n=%d: in-place ReLU = %v, want %v", n, src, want)
			}
		}
	})
}

func TestReLUBackward(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	forEachVecPath(t, func(t *testing.T) {
		for _, n := range vecLengths {
			gradOut, input := specialSlice(r, n), specialSlice(r, n)
			want := make([]float32, n)
			for i := range want {
				if input[i] > 0 {
					want[i] = gradOut[i]
				}
			}
			dst := randSlice(r, n)
			ReLUBackward(dst, gradOut, input)
			if !bitsEqual(dst, want) {
				t.Fatalf("n=%d: got %v, want %v", n, dst, want)
			}
		}
	})
}

func TestDot(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	forEachVecPath(t, func(t *testing.T) {
		for _, n := range append(vecLengths, 1000) {
			x, y := randSlice(r, n), randSlice(r, n)
			var want, bound float64
			for i := range x {
				want += float64(x[i]) * float64(y[i])
				bound += math.Abs(float64(x[i]) * float64(y[i]))
			}
			got := Dot(x, y)
			if d := math.Abs(float64(got) - want); d > float64(n+1)*1.2e-7*bound {
				t.Fatalf("n=%d: Dot = %v, want %v (error %.3g)", n, got, want, d)
			}
		}
	})
}

// Mul and MulAdd round each product once (MulAdd's FMA may round
// the sum once too); Sum is within n roundings of the exact sum.
func TestMulMulAddSum(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	forEachVecPath(t, func(t *testing.T) {
		for _, n := range append(vecLengths, 1000) {
			x, y, d := specialSlice(r, n), randSlice(r, n), randSlice(r, n+3)
			want := append([]float32(nil), d...)
			for i := 0; i < n; i++ {
				want[i] = x[i] * y[i]
			}
			Mul(d[:n], x, y)
			if !bitsEqual(d, want) {
				t.Fatalf("Mul n=%d: got %v, want %v", n, d, want)
			}
			Mul(x, x, y) // in place
			if !bitsEqual(x, want[:n]) {
				t.Fatalf("in-place Mul n=%d: got %v, want %v", n, x, want[:n])
			}

			x, d = randSlice(r, n), randSlice(r, n+3)
			want = append(want[:0], d...)
			for i := 0; i < n; i++ {
				want[i] += x[i] * y[i]
			}
			MulAdd(d[:n], x, y)
			for i := range d {
				if !closeTo(d[i], want[i]) {
					t.Fatalf("MulAdd n=%d: d[%d] = %v, want %v", n, i, d[i], want[i])
				}
			}

			var sum, bound float64
			for _, v := range x {
				sum += float64(v)
				bound += math.Abs(float64(v))
			}
			if got := Sum(x); math.Abs(float64(got)-sum) > float64(n+1)*1.2e-7*bound {
				t.Fatalf("Sum n=%d: got %v, want %v", n, got, sum)
			}
		}
	})
}

func TestVecLengthMismatchPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"Axpy":         func() { Axpy(1, make([]float32, 3), make([]float32, 4)) },
		"Dot":          func() { Dot(make([]float32, 3), make([]float32, 4)) },
		"ReLU":         func() { ReLU(make([]float32, 3), make([]float32, 4)) },
		"ReLUBackward": func() { ReLUBackward(make([]float32, 3), make([]float32, 3), make([]float32, 4)) },
		"AddRowVector": func() { AddRowVector(make([]float32, 5), 2, 3, make([]float32, 3)) },
		"SumRows":      func() { SumRows(make([]float32, 2), make([]float32, 6), 2, 3) },
		"Mul":          func() { Mul(make([]float32, 3), make([]float32, 3), make([]float32, 4)) },
		"MulAdd":       func() { MulAdd(make([]float32, 3), make([]float32, 4), make([]float32, 3)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestVecNoAllocs(t *testing.T) {
	r := rand.New(rand.NewSource(16))
	x, y := randSlice(r, 257), randSlice(r, 257)
	forEachVecPath(t, func(t *testing.T) {
		allocs := testing.AllocsPerRun(10, func() {
			Axpy(0.5, x, y)
			Scale(1, y)
			AddRowVector(y[:256], 16, 16, x[:16])
			SumRows(y[:16], x[:256], 16, 16)
			ReLU(y, x)
			ReLUBackward(y, x, y)
			_ = Dot(x, y)
			Mul(y, x, y)
			MulAdd(y, x, x)
			_ = Sum(x)
		})
		if allocs != 0 {
			t.Errorf("helpers allocated %v times per round", allocs)
		}
	})
}

func TestMulAdd(t *testing.T) {
	r := rand.New(rand.NewSource(21))
	forEachVecPath(t, func(t *testing.T) {
		for _, n := range vecLengths {
			a, b, d := randSlice(r, n+3), randSlice(r, n+3), randSlice(r, n+3)
			wantMulAdd := append([]float32(nil), d...)
			for i := 0; i < n; i++ {
				wantMulAdd[i] += a[i] * b[i]
			}
			got := append([]float32(nil), d...)
			MulAdd(got[:n], a[:n], b[:n])
			for i := range got {
				if !closeTo(got[i], wantMulAdd[i]) {
					t.Fatalf("MulAdd n=%d: [%d] = %v, want %v", n, i, got[i], wantMulAdd[i])
				}
			}
		}
	})
}

func TestScaleShiftAndMulShift(t *testing.T) {
	r := rand.New(rand.NewSource(22))
	forEachVecPath(t, func(t *testing.T) {
		for _, n := range vecLengths {
			src, a, b, d := randSlice(r, n+3), randSlice(r, n+3), randSlice(r, n+3), randSlice(r, n+3)
			wantScale, wantMul := append([]float32(nil), d...), append([]float32(nil), d...)
			for i := 0; i < n; i++ {
				wantScale[i] = -1.25*src[i] + 0.5
				wantMul[i] = src[i]*a[i] + b[i]
			}
			got := append([]float32(nil), d...)
			ScaleShift(got[:n], src[:n], -1.25, 0.5)
			for i := range got {
				if !closeTo(got[i], wantScale[i]) {
					t.Fatalf("ScaleShift n=%d: [%d] = %v, want %v", n, i, got[i], wantScale[i])
				}
			}
			got = append(got[:0], d...)
			MulShift(got[:n], src[:n], a[:n], b[:n])
			for i := range got {
				if !closeTo(got[i], wantMul[i]) {
					t.Fatalf("MulShift n=%d: [%d] = %v, want %v", n, i, got[i], wantMul[i])
				}
			}
		}
	})
}

func TestShiftRows(t *testing.T) {
	r := rand.New(rand.NewSource(19))
	forEachVecPath(t, func(t *testing.T) {
		for _, w := range vecLengths[1:] {
			for _, rows := range []int{1, 3, 24} {
				stride := w + r.Intn(5)
				src, dst := randSlice(r, (rows-1)*stride+w), randSlice(r, rows*w+3)
				want := append([]float32(nil), dst...)
				for i := 0; i < rows; i++ {
					for j := 0; j < w; j++ {
						want[i*w+j] = src[i*stride+j] + 0.25
					}
				}
				ShiftRows(dst[:rows*w], src, rows, stride, 0.25)
				if !bitsEqual(dst, want) {
					t.Fatalf("w=%d rows=%d stride=%d: got %v, want %v", w, rows, stride, dst, want)
				}
			}
		}
	})
}
