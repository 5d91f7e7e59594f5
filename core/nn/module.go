// Package nn holds the layers: the Module interface every layer implements,
// the containers, and a registry that builds a layer from BigDL's class name
// and its constructor arguments.
//
// Layers panic on misuse (a wrong input shape), as gonum does; the message
// names the layer and the shapes. The C ABI and the training loop recover
// those panics and return them as errors.
package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/bigdl-go/bigdl-go/core/mem"
	"github.com/bigdl-go/bigdl-go/core/rng"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Module is a layer or a container of layers.
type Module interface {
	// Forward computes the output for x and keeps what Backward needs. The
	// returned tensor belongs to the module and is overwritten by the next call.
	Forward(x *tensor.Tensor) *tensor.Tensor
	// Backward returns the gradient with respect to x given the gradient of
	// the output, and accumulates parameter gradients. It assumes Forward(x)
	// was the last call. With SetInputGradUnused it may return nil.
	Backward(x, gradOutput *tensor.Tensor) *tensor.Tensor
	// Params lists the module's own learnable parameters (not its children's).
	Params() []*Param
	// Meta holds the state every module shares: name, mode, freezing.
	Meta() *Base
	// Config returns the constructor arguments, so the module can be rebuilt
	// from its class name (see Register) when a model file is loaded.
	Config() map[string]any
	// Reset re-initialises the parameters from the engine's random generator.
	Reset()
	// String is the BigDL-style description, e.g. "Linear[fc1](5 -> 2)".
	String() string
}

// Container is a module made of child modules.
type Container interface {
	Module
	Children() []Module
	Add(child Module) error
}

// Param is one learnable tensor and its accumulated gradient.
type Param struct {
	Name  string // "weight" or "bias"
	Value *tensor.Tensor
	Grad  *tensor.Tensor
	Reg   *Regularizer // its penalty's gradient joins Grad once per batch; nil: none
	flat  *flatStorage // set by Flatten
}

// Base is embedded in every module.
type Base struct {
	class    string
	name     string
	training bool
	frozen   bool
	// inputGradUnused: whoever calls Backward discards the gradient with
	// respect to the input (see SetInputGradUnused).
	inputGradUnused bool
	// gradsOverwritten: Backward writes its parameter gradients instead of
	// adding to them (see SetGradsOverwritten).
	gradsOverwritten bool
}

func newBase(class string) Base {
	// BigDL names layers class + a random hex suffix, so names stay distinct
	// across processes (models saved by two runs can be combined).
	return Base{class: class, name: fmt.Sprintf("%s%08x", class, rand.Uint32()), training: true}
}

func (b *Base) Meta() *Base { return b }

// Class is BigDL's class name, the registry key.
func (b *Base) Class() string { return b.class }

// Name is the layer's name.
func (b *Base) Name() string { return b.name }

// SetName renames the layer.
func (b *Base) SetName(n string) { b.name = n }

// Training reports whether the layer is in training mode.
func (b *Base) Training() bool { return b.training }

// Frozen reports whether the layer's parameters are excluded from updates.
func (b *Base) Frozen() bool { return b.frozen }

// InputGradUnused reports whether Backward may skip the input gradient.
func (b *Base) InputGradUnused() bool { return b.inputGradUnused }

// SetInputGradUnused tells m whether its caller discards the gradient with
// respect to m's input, as the training loop does for the whole model. Then
// Backward only accumulates parameter gradients and may return nil: the
// first Linear of a network skips a third of its backward work (PyTorch's
// autograd skips it the same way, for inputs that do not require grad).
// Containers pass the flag on to the children that do not need it either.
func SetInputGradUnused(m Module, on bool) { m.Meta().inputGradUnused = on }

// gradOverwriter is a module with parameters whose Backward can write its
// gradients instead of adding to them.
type gradOverwriter interface {
	overwritesGrads()
}

// SetGradsOverwritten tells every module of m with parameters that each
// Backward starts a new gradient: it writes its parameter gradients rather
// than adding to them, as the training loop would otherwise clear them
// before every backward pass (a megabyte per step for a 270k-parameter
// MLP). It reports false, and changes nothing, if some module with
// parameters cannot, or is frozen (it writes no gradient, and an optim
// method may have changed the last one in place, by weight decay or
// momentum); the caller then keeps clearing. Off restores BigDL's
// accumulating Backward.
func SetGradsOverwritten(m Module, on bool) bool {
	ok := true
	Walk(m, func(x Module) {
		if _, can := x.(gradOverwriter); len(x.Params()) > 0 && (!can || x.Meta().frozen) {
			ok = false
		}
	})
	if !ok && on {
		return false
	}
	Walk(m, func(x Module) { x.Meta().gradsOverwritten = on })
	return ok
}

// trainable reports whether m or a module below it has parameters that
// Backward updates.
func trainable(m Module) bool {
	if !m.Meta().frozen && len(m.Params()) > 0 {
		return true
	}
	if c, ok := m.(Container); ok {
		for _, ch := range c.Children() {
			if trainable(ch) {
				return true
			}
		}
	}
	return false
}

// Walk calls f on m and every module below it, parents first.
func Walk(m Module, f func(Module)) {
	f(m)
	if c, ok := m.(Container); ok {
		for _, ch := range c.Children() {
			Walk(ch, f)
		}
	}
}

// SetTraining switches m and all its children to training (true) or
// evaluation (false) mode.
func SetTraining(m Module, on bool) {
	Walk(m, func(x Module) { x.Meta().training = on })
}

// SetFrozen freezes (or unfreezes) m and all its children; with names, only
// the modules so named and their children.
func SetFrozen(m Module, on bool, names ...string) error {
	if len(names) == 0 {
		Walk(m, func(x Module) { x.Meta().frozen = on })
		return nil
	}
	for _, n := range names {
		found := false
		Walk(m, func(x Module) {
			if x.Meta().name == n {
				found = true
				Walk(x, func(y Module) { y.Meta().frozen = on })
			}
		})
		if !found {
			return fmt.Errorf("freeze: no layer named %q in %s", n, m.Meta().name)
		}
	}
	return nil
}

// AllParams lists the parameters of m and its children in a fixed order
// (depth first), the order of get_weights and of model files.
func AllParams(m Module) []*Param {
	var ps []*Param
	Walk(m, func(x Module) { ps = append(ps, x.Params()...) })
	return ps
}

// ZeroGrads clears the accumulated gradients of m and its children.
func ZeroGrads(m Module) {
	for _, p := range AllParams(m) {
		p.Grad.Zero()
	}
}

// Flatten moves every parameter (and gradient) of m into one contiguous
// vector, so optimisers and parameter synchronisation work on a single slice.
// The tensors keep their shapes and values; only their storage moves.
func Flatten(m Module) (weights, grads []float32) {
	ps := AllParams(m)
	n := 0
	for _, p := range ps {
		n += p.Value.Len()
	}
	if w, g, ok := flatViews(ps, n); ok {
		return w, g
	}
	// The weights are Linear's and the convolutions' GEMM operands: on huge
	// pages from 4 MiB, like the activations they multiply.
	weights, grads = mem.Floats(n), mem.Floats(n)
	f := &flatStorage{weights, grads}
	off := 0
	for _, p := range ps {
		k := p.Value.Len()
		copy(weights[off:off+k], p.Value.Data)
		copy(grads[off:off+k], p.Grad.Data)
		p.Value.Data = weights[off : off+k : off+k]
		p.Grad.Data = grads[off : off+k : off+k]
		p.flat = f
		off += k
	}
	return weights, grads
}

// flatViews returns the vectors a previous Flatten made, when every
// parameter still lies in them in order (so a second Flatten moves nothing).
func flatViews(ps []*Param, n int) (weights, grads []float32, ok bool) {
	if len(ps) == 0 || ps[0].flat == nil || len(ps[0].flat.weights) != n {
		return nil, nil, false
	}
	f, off := ps[0].flat, 0
	for _, p := range ps {
		k := p.Value.Len()
		if p.flat != f || k > 0 && (&p.Value.Data[0] != &f.weights[off] || &p.Grad.Data[0] != &f.grads[off]) {
			return nil, nil, false
		}
		off += k
	}
	return f.weights, f.grads, true
}

// flatStorage is the pair of vectors a Flatten moved parameters into.
type flatStorage struct{ weights, grads []float32 }

func newParam(name string, shape ...int) *Param {
	return &Param{Name: name, Value: tensor.New(shape...), Grad: tensor.New(shape...)}
}

// tableTaker is a module whose input (or output gradient) may be a table:
// the containers and the table layers. Every other layer takes tensors only.
type tableTaker interface{ takesTables() }

// Forward is m.Forward(x), refusing a table for a layer that takes tensors
// only: such a layer would read a table as an empty tensor and compute
// nothing, silently. Containers call their children through it.
func Forward(m Module, x *tensor.Tensor) *tensor.Tensor {
	if x.IsTable() {
		if _, ok := m.(tableTaker); !ok {
			panic(fmt.Errorf("%s: expected a tensor, got a table %s", m.String(), x.Describe()))
		}
	}
	return m.Forward(x)
}

// Backward is m.Backward(x, gy), with Forward's check of tables.
func Backward(m Module, x, gy *tensor.Tensor) *tensor.Tensor {
	if x.IsTable() || gy.IsTable() {
		if _, ok := m.(tableTaker); !ok {
			panic(fmt.Errorf("%s: expected a tensor input and gradient, got input %s and gradient %s",
				m.String(), x.Describe(), gy.Describe()))
		}
	}
	return m.Backward(x, gy)
}

// shapeError panics with a message naming the layer, what it expects and
// what it got.
func shapeError(m Module, want string, got []int) {
	panic(fmt.Errorf("%s: expected input of %s, got shape %s", m.String(), want, tensor.ShapeString(got)))
}

// vectorRows is the record count of x for a layer m that reads vectors of
// size n: 1 for an (n,) input, batch for (batch, n); any other shape is
// refused, naming m.
func vectorRows(m Module, x *tensor.Tensor, n int) int {
	switch {
	case x.Dims() == 1 && x.Shape[0] == n:
		return 1
	case x.Dims() == 2 && x.Shape[1] == n:
		return x.Shape[0]
	}
	shapeError(m, fmt.Sprintf("shape (%d,) or (batch, %d)", n, n), x.Shape)
	return 0
}

// SetRNG gives every random layer in m (those with a UseRNG method) the
// generator g.
func SetRNG(m Module, g *rng.MT) {
	Walk(m, func(x Module) {
		if r, ok := x.(interface{ UseRNG(*rng.MT) }); ok {
			r.UseRNG(g)
		}
	})
}

// extraParameterized is a module with state that gradients do not train
// but that belongs with its weights: BatchNormalization's running mean and
// variance (BigDL's getExtraParameter). Model files and clones carry it;
// the training loop averages it over the replicas that share a batch, and
// a distributed run over its tasks.
type extraParameterized interface {
	ExtraParams() []*tensor.Tensor
}

// AllExtraParams lists the extra parameters of m and its children in a
// fixed order (depth first), the order of model files.
func AllExtraParams(m Module) []*tensor.Tensor {
	var ts []*tensor.Tensor
	Walk(m, func(x Module) {
		if e, ok := x.(extraParameterized); ok {
			ts = append(ts, e.ExtraParams()...)
		}
	})
	return ts
}

// FlattenExtraParams moves every extra parameter of m into one contiguous
// vector, as Flatten does for the parameters, so the training loop averages
// them with one vector operation; nil if m has none.
func FlattenExtraParams(m Module) []float32 {
	ts := AllExtraParams(m)
	n := 0
	for _, t := range ts {
		n += t.Len()
	}
	if n == 0 {
		return nil
	}
	vec, off := make([]float32, n), 0
	for _, t := range ts {
		k := t.Len()
		copy(vec[off:off+k], t.Data)
		t.Data = vec[off : off+k : off+k]
		off += k
	}
	return vec
}
