package optim

import (
	"strings"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/nn"
)

func namedModel() (nn.Module, *nn.Linear, *nn.Linear) {
	s := nn.NewSequential()
	a, b := nn.NewLinear(3, 4, true), nn.NewLinear(4, 2, true)
	a.SetName("a")
	b.SetName("b")
	s.Add(a)
	s.Add(nn.NewReLU(false))
	s.Add(b)
	return s, a, b
}

func mustMethod(t *testing.T, class string, args map[string]any) Method {
	t.Helper()
	m, err := NewMethod(class, args)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPerModuleRefusesBadDicts(t *testing.T) {
	model, _, _ := namedModel()
	sgd := func() Method { return mustMethod(t, "SGD", nil) }
	for _, c := range []struct {
		methods map[string]Method
		want    string
	}{
		{map[string]Method{"a": sgd(), "zz": sgd()}, `"zz"`},
		{map[string]Method{"a": sgd()}, "no submodule named in the dict"},
		{map[string]Method{model.Meta().Name(): sgd(), "a": sgd()}, "inside"},
		{map[string]Method{"a": sgd(), "b": mustMethod(t, "LBFGS", nil)}, "LBFGS"},
	} {
		if _, err := NewPerModule(model, c.methods); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error naming %s", c.methods, err, c.want)
		}
	}
}

// Each method updates its own submodule's range, and the joined state
// splits back into the methods, whole or a shard at a time.
func TestPerModuleUpdatesRangesAndCarriesState(t *testing.T) {
	model, a, _ := namedModel()
	w, _ := nn.Flatten(model)
	na := len(a.Weight.Value.Data) + len(a.Bias.Value.Data)
	p, err := NewPerModule(model, map[string]Method{
		"a": mustMethod(t, "SGD", map[string]any{"learningrate": 1.0}),
		"b": mustMethod(t, "Adam", map[string]any{"learningrate": 0.1})})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(w))
	g := make([]float32, len(w))
	for i := range g {
		g[i] = 1
	}
	p.Update(x, g)
	if x[0] != -1 || x[na-1] != -1 || x[na] >= 0 || x[na] == -1 {
		t.Fatalf("SGD(1) should move a's values by -1 and Adam b's by less: %v", x)
	}
	s := StateOf(p)
	if s.T != 1 || len(s.Bufs) != 2 || len(s.Bufs[0]) != len(w) || s.Bufs[0][na] == 0 {
		t.Fatalf("state: t %d, %d buffers", s.T, len(s.Bufs))
	}
	q, _ := NewPerModule(model, map[string]Method{
		"a": mustMethod(t, "SGD", map[string]any{"learningrate": 1.0}),
		"b": mustMethod(t, "Adam", map[string]any{"learningrate": 0.1})})
	lo, hi := na-2, len(w) // a shard reaching into both submodules
	shard := MethodState{T: s.T, Bufs: [][]float32{s.Bufs[0][lo:hi], s.Bufs[1][lo:hi]}}
	if err := SetState(q, shard); err != nil {
		t.Fatal(err)
	}
	if err := shardMethod(q, lo, hi, len(w)); err != nil {
		t.Fatal(err)
	}
	got := StateOf(q)
	for j := range got.Bufs {
		for i, v := range got.Bufs[j] {
			if i >= 2 && v != s.Bufs[j][lo+i] { // a (SGD) keeps no buffer: zeros
				t.Fatalf("buffer %d value %d: %v, want %v", j, lo+i, v, s.Bufs[j][lo+i])
			}
		}
	}
}
