package nn

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// paramGrads runs forward and backward from zeroed gradients and returns
// the input gradient and copies of the parameter gradients.
func paramGrads(m Module, x, gy *tensor.Tensor) (*tensor.Tensor, [][]float32) {
	ZeroGrads(m)
	m.Forward(x)
	gx := m.Backward(x, gy)
	var gs [][]float32
	for _, p := range AllParams(m) {
		gs = append(gs, slices.Clone(p.Grad.Data))
	}
	return gx, gs
}

// Skipping the input gradient must leave every parameter gradient exactly
// as a full backward computes it, including behind parameterless layers and
// frozen ones, and in nested containers.
func TestInputGradUnusedKeepsParamGrads(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	build := func(freezeFirst bool) Module {
		inner := NewSequential()
		inner.Add(NewLinear(12, 7, true))
		inner.Add(NewTanh())
		s := NewSequential()
		s.Add(mustNew(t, "Reshape", map[string]any{"size": []any{12.0}}))
		s.Add(NewReLU(false))
		s.Add(inner)
		s.Add(NewLinear(7, 3, false))
		if freezeFirst {
			SetFrozen(inner, true)
		}
		return s
	}
	for _, freeze := range []bool{false, true} {
		m := build(freeze)
		x, gy := randTensor(r, 5, 3, 4), randTensor(r, 5, 3)
		gx, want := paramGrads(m, x, gy)
		if gx == nil {
			t.Fatal("full backward returned no input gradient")
		}
		SetInputGradUnused(m, true)
		gx, got := paramGrads(m, x, gy)
		if gx != nil {
			t.Errorf("freeze=%v: backward returned an input gradient it was told to skip", freeze)
		}
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("freeze=%v: parameter %d's gradient changed when the input gradient was skipped", freeze, i)
			}
		}
		SetInputGradUnused(m, false)
		if gx, _ := paramGrads(m, x, gy); gx == nil || gx.Len() != x.Len() {
			t.Fatalf("freeze=%v: the input gradient did not come back after SetInputGradUnused(false)", freeze)
		}
	}
}

// With gradients overwritten, one backward over gradients holding garbage
// gives exactly what a backward from zeroed gradients gives; without, it
// accumulates again. A frozen layer with parameters refuses the switch.
func TestGradsOverwrittenMatchClearedGrads(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	inner := NewSequential()
	inner.Add(NewLinear(12, 7, true))
	inner.Add(NewTanh())
	m := NewSequential()
	m.Add(inner)
	m.Add(NewLinear(7, 3, false))
	x, gy := randTensor(r, 5, 12), randTensor(r, 5, 3)
	_, want := paramGrads(m, x, gy)

	if !SetGradsOverwritten(m, true) {
		t.Fatal("a model of Linear layers refused to overwrite its gradients")
	}
	for _, p := range AllParams(m) {
		for i := range p.Grad.Data {
			p.Grad.Data[i] = float32(i) + 0.5 // garbage the backward must not add to
		}
	}
	m.Forward(x)
	m.Backward(x, gy)
	for i, p := range AllParams(m) {
		if !slices.Equal(p.Grad.Data, want[i]) {
			t.Fatalf("parameter %d: an overwriting backward differs from one from zeroed gradients", i)
		}
	}
	SetGradsOverwritten(m, false)
	m.Forward(x)
	m.Backward(x, gy)
	if p := AllParams(m)[0]; p.Grad.Data[0] != 2*want[0][0] {
		t.Fatalf("after SetGradsOverwritten(false) the gradient is %v, want %v accumulated twice", p.Grad.Data[0], want[0][0])
	}

	SetFrozen(inner, true)
	if SetGradsOverwritten(m, true) {
		t.Fatal("a model with a frozen Linear accepted to overwrite its gradients")
	}
	if m.Meta().gradsOverwritten || inner.Children()[0].Meta().gradsOverwritten {
		t.Fatal("a refused SetGradsOverwritten changed a module")
	}
}
