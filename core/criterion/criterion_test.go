package criterion

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

func randTensor(r *rand.Rand, lo, hi float64, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return t
}

func mustNew(t *testing.T, class string, args map[string]any) Criterion {
	t.Helper()
	c, err := New(class, args)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGradientsAgainstFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	labels := tensor.FromData([]float32{1, 3, 2, 3}, 4)
	cases := []struct {
		name string
		c    Criterion
		x, y *tensor.Tensor
	}{
		{"ClassNLL", mustNew(t, "ClassNLLCriterion", nil), randTensor(r, -3, 0, 4, 3), labels},
		{"ClassNLL weighted", mustNew(t, "ClassNLLCriterion", map[string]any{"weights": []any{0.2, 1.0, 3.0}}), randTensor(r, -3, 0, 4, 3), labels},
		{"ClassNLL sum", mustNew(t, "ClassNLLCriterion", map[string]any{"size_average": false}), randTensor(r, -3, 0, 4, 3), labels},
		{"ClassNLL probabilities", mustNew(t, "ClassNLLCriterion", map[string]any{"logProbAsInput": false}), randTensor(r, 0.1, 0.9, 4, 3), labels},
		{"CrossEntropy", mustNew(t, "CrossEntropyCriterion", nil), randTensor(r, -2, 2, 4, 3), labels},
		{"MSE", mustNew(t, "MSECriterion", nil), randTensor(r, -2, 2, 4, 3), randTensor(r, -2, 2, 4, 3)},
		{"Abs", mustNew(t, "AbsCriterion", nil), randTensor(r, -2, 2, 4, 3), randTensor(r, -2, 2, 4, 3)},
		{"BCE", mustNew(t, "BCECriterion", nil), randTensor(r, 0.1, 0.9, 4, 3), randTensor(r, 0, 1, 4, 3)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := c.c.Backward(c.x, c.y).Clone()
			const eps = 1e-3
			for i := range c.x.Data {
				old := c.x.Data[i]
				c.x.Data[i] = old + eps
				lp := c.c.Forward(c.x, c.y)
				c.x.Data[i] = old - eps
				lm := c.c.Forward(c.x, c.y)
				c.x.Data[i] = old
				num := (lp - lm) / (2 * eps)
				if math.Abs(num-float64(g.Data[i])) > 1e-2*(1+math.Abs(num)) {
					t.Fatalf("element %d: backward %v, finite difference %v", i, g.Data[i], num)
				}
			}
		})
	}
}

func TestClassNLLValues(t *testing.T) {
	x := tensor.FromData([]float32{-1, -2, -3, -0.5}, 2, 2)
	y := tensor.FromData([]float32{2, 1}, 2)
	if l := mustNew(t, "ClassNLLCriterion", nil).Forward(x, y); math.Abs(l-(2+3)/2.0) > 1e-6 {
		t.Fatalf("mean NLL %v, want 2.5", l)
	}
	w := mustNew(t, "ClassNLLCriterion", map[string]any{"weights": []any{1.0, 3.0}})
	if l := w.Forward(x, y); math.Abs(l-(3*2+1*3)/4.0) > 1e-6 {
		t.Fatalf("weighted NLL %v, want %v", l, 9/4.0)
	}
	if s, n := SumRecordLosses(w, x, y); n != 2 || math.Abs(s-5) > 1e-6 {
		t.Fatalf("record losses %v over %d, want 5 over 2", s, n)
	}
}

func TestClassNLLRejectsZeroBasedLabels(t *testing.T) {
	c := mustNew(t, "ClassNLLCriterion", nil).(TargetChecker)
	for _, bad := range []float32{0, 3, 1.5} {
		err := c.CheckTargets(tensor.FromData([]float32{1, bad}, 2), 2)
		if err == nil || !strings.Contains(err.Error(), "1-based") {
			t.Fatalf("label %v: want an error saying labels are 1-based, got %v", bad, err)
		}
	}
	if err := c.CheckTargets(tensor.FromData([]float32{1, 2}, 2), 2); err != nil {
		t.Fatal(err)
	}
}

func TestMSEAveragesOverElements(t *testing.T) {
	x := tensor.FromData([]float32{1, 2, 3, 4}, 2, 2)
	y := tensor.FromData([]float32{0, 0, 0, 0}, 2, 2)
	if l := mustNew(t, "MSECriterion", nil).Forward(x, y); math.Abs(l-30/4.0) > 1e-6 {
		t.Fatalf("MSE %v, want 7.5", l)
	}
	if s, n := SumRecordLosses(mustNew(t, "MSECriterion", nil), x, y); n != 2 || math.Abs(s-(5/2.0+25/2.0)) > 1e-6 {
		t.Fatalf("MSE record losses %v over %d", s, n)
	}
}
