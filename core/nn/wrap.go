package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// single is a container of at most one module (MapTable, Bottle).
type single struct {
	container
}

func (s *single) Add(self Module, m Module) error {
	if len(s.children) > 0 {
		return fmt.Errorf("%s holds one module, and already has %s", self.String(), s.children[0].Meta().name)
	}
	return addChild(self, &s.children, m)
}

func (s *single) module(self Module) Module {
	if len(s.children) == 0 {
		panic(fmt.Errorf("%s has no module: give it one before calling forward", self.String()))
	}
	return s.children[0]
}

// MapTable applies its module to every element of its input table; the
// output is the table of the results. Elements after the first run on
// replicas that share the module's weights; their parameter gradients are
// added into the module's.
type MapTable struct {
	single
	rng            *rng.MT // the stream SetRNG gave: the replicas' too
	replicas       []Module
	overwrite      []bool // replica i writes, rather than adds to, its gradients
	output, gradIn *tensor.Tensor
}

// Bottle runs its module on an input of more than NInputDim dimensions by
// folding the leading ones into the first, then unfolds the output.
type Bottle struct {
	single
	NInputDim, NOutputDim1 int
	inShape, outShape      []int
	view, gyView, output   tensor.Tensor
	gradIn                 tensor.Tensor
}

func init() {
	Register("MapTable", func(a *Args) (Module, error) {
		return &MapTable{single: single{container{Base: newBase("MapTable")}}}, nil
	})
	Register("Bottle", func(a *Args) (Module, error) {
		nIn, nOut := a.Int("n_input_dim", 2), a.Int("n_output_dim1", math.MaxInt32)
		if nIn < 1 || nOut < 1 {
			return nil, fmt.Errorf("Bottle: arguments n_input_dim and n_output_dim1 must be positive, got %d and %d", nIn, nOut)
		}
		return &Bottle{single: single{container{Base: newBase("Bottle")}}, NInputDim: nIn, NOutputDim1: nOut}, nil
	})
}

func (m *MapTable) Add(x Module) error { return m.single.Add(m, x) }

// replica returns the module that handles element i, building replicas as
// needed. Building one does not move the global generator: a seeded run
// draws the same weights and masks whatever the tables' lengths.
func (m *MapTable) replica(i int) Module {
	mod := m.module(m)
	if i == 0 {
		return mod
	}
	for len(m.replicas) < i {
		st := rng.Global.State()
		r, _, err := Clone(mod)
		if err := rng.Global.SetState(st); err != nil {
			panic(err)
		}
		if err != nil {
			panic(fmt.Errorf("%s: cannot replicate %s: %w", m.String(), mod.Meta().name, err))
		}
		SetRNG(r, m.rng)
		m.replicas = append(m.replicas, r)
		m.overwrite = append(m.overwrite, SetGradsOverwritten(r, true))
	}
	r := m.replicas[i-1]
	mirrorFlags(r, mod)
	return r
}

// mirrorFlags gives replica r (and its children) the mode and freezing of
// m, which may have changed since r was built.
func mirrorFlags(r, m Module) {
	r.Meta().training, r.Meta().frozen = m.Meta().training, m.Meta().frozen
	if c, ok := m.(Container); ok {
		rc := r.(Container).Children()
		for i, ch := range c.Children() {
			mirrorFlags(rc[i], ch)
		}
	}
}

// addGrads adds replica r's parameter gradients into m's, skipping frozen
// modules (which compute none).
func addGrads(m, r Module) {
	if !m.Meta().frozen {
		theirs := r.Params()
		for j, p := range m.Params() {
			for k, v := range theirs[j].Grad.Data {
				p.Grad.Data[k] += v
			}
		}
	}
	if c, ok := m.(Container); ok {
		rc := r.(Container).Children()
		for i, ch := range c.Children() {
			addGrads(ch, rc[i])
		}
	}
}

// UseRNG gives the replicas' random layers the stream SetRNG gives the
// module, so a seeded run with several workers stays reproducible.
func (m *MapTable) UseRNG(g *rng.MT) {
	m.rng = g
	for _, r := range m.replicas {
		SetRNG(r, g)
	}
}

func (m *MapTable) Forward(x *tensor.Tensor) *tensor.Tensor {
	needTable(m, "the input", x, -1)
	m.output = tensor.EnsureTable(m.output, len(x.Table))
	for i, e := range x.Table {
		m.output.Table[i] = Forward(m.replica(i), e)
	}
	return m.output
}

func (m *MapTable) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	needTable(m, "the input", x, -1)
	needTable(m, "the output gradient", gy, len(x.Table))
	m.gradIn = tensor.EnsureTable(m.gradIn, len(x.Table))
	mod := m.module(m)
	for i, e := range x.Table {
		r := m.replica(i)
		r.Meta().inputGradUnused = m.inputGradUnused
		if i > 0 && !m.overwrite[i-1] {
			ZeroGrads(r)
		}
		m.gradIn.Table[i] = Backward(r, e, gy.Table[i])
		if i > 0 {
			addGrads(mod, r)
		}
	}
	if m.inputGradUnused {
		return nil
	}
	return m.gradIn
}

func (b *Bottle) Add(x Module) error { return b.single.Add(b, x) }
func (b *Bottle) Config() map[string]any {
	return map[string]any{"n_input_dim": b.NInputDim, "n_output_dim1": b.NOutputDim1}
}

func (b *Bottle) nOutputDim() int {
	if b.NOutputDim1 == math.MaxInt32 {
		return b.NInputDim
	}
	return b.NOutputDim1
}

// folded reports whether x has leading dimensions to fold, and views x
// folded into b.view.
func (b *Bottle) folded(x *tensor.Tensor) bool {
	batchDims := x.Dims() - b.NInputDim + 1
	if batchDims <= 1 {
		return false
	}
	b.inShape = append(append(b.inShape[:0], tensor.Volume(x.Shape[:batchDims])), x.Shape[batchDims:]...)
	b.view = tensor.Tensor{Shape: b.inShape, Data: x.Data}
	return true
}

func (b *Bottle) Forward(x *tensor.Tensor) *tensor.Tensor {
	mod := b.module(b)
	needTensor(b, "the input", x)
	if !b.folded(x) {
		return Forward(mod, x)
	}
	out := Forward(mod, &b.view)
	if out.IsTable() || out.Dims() != b.nOutputDim() {
		panic(fmt.Errorf("%s: its module should return %d dimensions, got %s", b.String(), b.nOutputDim(), out.Describe()))
	}
	batchDims := x.Dims() - b.NInputDim + 1
	b.outShape = append(append(b.outShape[:0], x.Shape[:batchDims]...), out.Shape[1:]...)
	b.output = tensor.Tensor{Shape: b.outShape, Data: out.Data}
	return &b.output
}

func (b *Bottle) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	mod := b.module(b)
	mod.Meta().inputGradUnused = b.inputGradUnused
	if !b.folded(x) {
		return Backward(mod, x, gy)
	}
	out := b.output.Shape
	if gy.IsTable() || gy.Len() != tensor.Volume(out) {
		shapeError(b, "a gradient of shape "+tensor.ShapeString(out), gy.Shape)
	}
	batchDims := x.Dims() - b.NInputDim + 1
	b.gyView = tensor.Tensor{Shape: append(b.gyView.Shape[:0], tensor.Volume(out[:batchDims])), Data: gy.Data}
	b.gyView.Shape = append(b.gyView.Shape, out[batchDims:]...)
	g := Backward(mod, &b.view, &b.gyView)
	if g == nil {
		return nil
	}
	b.gradIn = tensor.Tensor{Shape: x.Shape, Data: g.Data}
	return &b.gradIn
}
