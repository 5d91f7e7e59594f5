package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// BiRecurrent runs its cell over a (batch, T, input) sequence forwards and
// a copy of it backwards (each with its own weights; the copy starts as
// the cell's, as BigDL clones it), reverses the second output back into
// time order, and merges the two (batch, T, hidden) outputs with its merge
// layer: by default their sum (BigDL's CAddTable), or any layer of a
// two-tensor table, such as JoinTable(3, 3) for PyTorch's concatenation.
type BiRecurrent struct {
	Base
	fwd, rev    *Recurrent
	merge       Module
	customMerge bool
	reversed    *tensor.Tensor // the input, and then the gradient, in reverse time order
	revOut      *tensor.Tensor // the backward pass's output in time order
	pair        *tensor.Tensor // the merge layer's input table
	gradIn      *tensor.Tensor
	gradRev     *tensor.Tensor
}

func init() {
	Register("BiRecurrent", func(a *Args) (Module, error) {
		add, err := New("CAddTable", map[string]any{"inplace": true})
		if err != nil {
			return nil, err
		}
		return &BiRecurrent{Base: newBase("BiRecurrent"), merge: add}, nil
	})
}

func (b *BiRecurrent) label() string { return fmt.Sprintf("BiRecurrent[%s]", b.name) }

func (b *BiRecurrent) Children() []Module {
	var out []Module
	if b.fwd != nil {
		out = append(out, b.fwd, b.rev)
	}
	return append(out, b.merge)
}
func (b *BiRecurrent) Params() []*Param       { return nil }
func (b *BiRecurrent) Config() map[string]any { return map[string]any{} }
func (b *BiRecurrent) String() string         { return containerString(&b.Base, b.Children()) }
func (b *BiRecurrent) Reset() {
	for _, c := range b.Children() {
		c.Reset()
	}
}

// Add takes the cell (its reverse twin is a copy), or a merge layer
// (replacing the default sum). Rebuilding a saved BiRecurrent adds its two
// Recurrent layers and then its merge layer.
func (b *BiRecurrent) Add(m Module) error {
	if convolutional(m) {
		return fmt.Errorf("%s: expected a cell of vectors (RnnCell, LSTM, LSTMPeephole, GRU), got %s", b.label(), m.String())
	}
	switch m := m.(type) {
	case sequenceCell:
		if b.fwd != nil {
			return fmt.Errorf("%s holds exactly one cell and already has %s", b.label(), b.fwd.children[0].String())
		}
		twin, err := Build(Describe(m))
		if err != nil {
			return err
		}
		for i, p := range AllParams(twin) {
			copy(p.Value.Data, AllParams(m)[i].Value.Data)
		}
		b.fwd, b.rev = &Recurrent{Base: newBase("Recurrent")}, &Recurrent{Base: newBase("Recurrent")}
		if err := b.fwd.Add(m); err != nil {
			return err
		}
		return b.rev.Add(twin)
	case *Recurrent:
		switch {
		case b.fwd == nil:
			b.fwd = m
		case b.rev == nil:
			b.rev = m
		default:
			return fmt.Errorf("%s already has both directions", b.label())
		}
		return nil
	}
	if b.customMerge {
		return fmt.Errorf("%s already has the merge layer %s", b.label(), b.merge.String())
	}
	if err := addChild(b, new([]Module), m); err != nil {
		return err
	}
	b.merge, b.customMerge = m, true
	return nil
}

func (b *BiRecurrent) directions() {
	if b.fwd == nil || b.rev == nil {
		panic(fmt.Errorf("%s has no cell: add one (e.g. LSTM) before calling forward", b.label()))
	}
}

// reverseTime writes x (batch, T, ·) with its steps in reverse order into dst.
func reverseTime(dst *tensor.Tensor, x *tensor.Tensor) *tensor.Tensor {
	dst = tensor.Ensure(dst, x.Shape...)
	n, steps := x.Shape[0], x.Shape[1]
	w := x.Len() / max(n*steps, 1)
	for s := 0; s < n; s++ {
		for t := 0; t < steps; t++ {
			o, r := (s*steps+t)*w, (s*steps+steps-1-t)*w
			copy(dst.Data[r:r+w], x.Data[o:o+w])
		}
	}
	return dst
}

func (b *BiRecurrent) Forward(x *tensor.Tensor) *tensor.Tensor {
	b.directions()
	if in, _ := b.fwd.cell().sizes(); x.IsTable() || x.Dims() != 3 || x.Shape[2] != in {
		panic(fmt.Errorf("%s: expected input of shape (batch, time, %d), got %s", b.label(), in, x.Describe()))
	}
	fo := b.fwd.Forward(x)
	b.reversed = reverseTime(b.reversed, x)
	b.revOut = reverseTime(b.revOut, b.rev.Forward(b.reversed))
	b.pair = tensor.EnsureTable(b.pair, 2)
	b.pair.Table[0], b.pair.Table[1] = fo, b.revOut
	return Forward(b.merge, b.pair)
}

func (b *BiRecurrent) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	b.directions()
	b.merge.Meta().inputGradUnused = false
	g := Backward(b.merge, b.pair, gy)
	if !g.IsTable() || len(g.Table) != 2 {
		panic(fmt.Errorf("%s: the merge layer's gradient should be a table of two, got %s", b.label(), g.Describe()))
	}
	b.fwd.inputGradUnused, b.rev.inputGradUnused = b.inputGradUnused, b.inputGradUnused
	b.gradRev = reverseTime(b.gradRev, g.Table[1])
	gr := b.rev.Backward(b.reversed, b.gradRev)
	gf := b.fwd.Backward(x, g.Table[0])
	if b.inputGradUnused {
		return nil
	}
	b.gradIn = reverseTime(b.gradIn, gr)
	for i, v := range gf.Data {
		b.gradIn.Data[i] += v
	}
	return b.gradIn
}
