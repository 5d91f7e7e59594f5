package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Recurrent runs its one cell over every time step of a (batch, T, input)
// sequence from a zero initial state; the output is the hidden state of every
// step, (batch, T, hidden).
//
// BigDL unrolls a cell into T clones sharing weights and runs a graph per
// step. Here the cell runs the whole sequence itself: the input projection of
// all steps is one matrix product, only the recurrent product is per step, and
// backward through time reuses the buffers of the last sequence.
type Recurrent struct {
	Base
	children []Module
	output   *tensor.Tensor
	gradIn   *tensor.Tensor
	n, steps int   // the last forward's batch and sequence length
	outShape []int // the output's shape
}

// sequenceCell is a cell Recurrent can drive: it runs a whole sequence.
type sequenceCell interface {
	Module
	sizes() (in, hidden int)
	// forwardSeq reads x (n, steps, in) and writes the hidden states
	// (n, steps, hidden) into out.
	forwardSeq(x []float32, n, steps int, out []float32)
	// backwardSeq takes the gradient gy of every step's hidden state,
	// accumulates parameter gradients and, unless gx is nil, writes the
	// gradient of x into gx. forwardSeq on the same x came last.
	backwardSeq(x, gy []float32, n, steps int, gx []float32)
	// finalState is the hidden state after the last step (and the cell
	// state for an LSTM), each (n, hidden); out is forwardSeq's output.
	finalState(out []float32, n, steps int) []*tensor.Tensor
}

func init() {
	Register("Recurrent", func(a *Args) (Module, error) { return &Recurrent{Base: newBase("Recurrent")}, nil })
}

func (r *Recurrent) Children() []Module     { return r.children }
func (r *Recurrent) Params() []*Param       { return nil }
func (r *Recurrent) Config() map[string]any { return map[string]any{} }
func (r *Recurrent) String() string         { return containerString(&r.Base, r.children) }
func (r *Recurrent) Reset() {
	for _, c := range r.children {
		c.Reset()
	}
}

// label names the container in errors (String lists the cell too).
func (r *Recurrent) label() string { return fmt.Sprintf("%s[%s]", r.class, r.name) }

// Add sets the cell; Recurrent takes exactly one, as in BigDL.
func (r *Recurrent) Add(m Module) error {
	if _, ok := m.(sequenceCell); !ok {
		return fmt.Errorf("%s: expected a recurrent cell (RnnCell, LSTM, LSTMPeephole, GRU), got %s", r.label(), m.String())
	}
	if len(r.children) > 0 {
		return fmt.Errorf("%s holds exactly one cell and already has %s: to stack cells use Sequential of Recurrent layers",
			r.label(), r.children[0].String())
	}
	return addChild(r, &r.children, m)
}

func (r *Recurrent) cell() sequenceCell {
	if len(r.children) == 0 {
		panic(fmt.Errorf("%s has no cell: add one (e.g. LSTM) before calling forward", r.label()))
	}
	return r.children[0].(sequenceCell)
}

// framedCell is a cell of image frames (ConvLSTMPeephole): frames checks a
// (batch, T, frame...) input and returns the output frame's shape, nil for
// a cell of vectors.
type framedCell interface {
	frames(x *tensor.Tensor) []int
}

// sequence checks x is (batch, T, in) for the cell (or of frames the cell
// takes), returns batch and T, and sets the output's shape.
func (r *Recurrent) sequence(c sequenceCell, x *tensor.Tensor) (n, steps int) {
	if f, ok := c.(framedCell); ok {
		if frame := f.frames(x); frame != nil {
			r.outShape = append(append(r.outShape[:0], x.Shape[0], x.Shape[1]), frame...)
			return x.Shape[0], x.Shape[1]
		}
	}
	in, h := c.sizes()
	if !x.IsTable() && x.Dims() == 3 {
		r.outShape = append(r.outShape[:0], x.Shape[0], x.Shape[1], h)
	}
	if x.IsTable() || x.Dims() != 3 || x.Shape[2] != in || x.Shape[0] == 0 || x.Shape[1] == 0 {
		panic(fmt.Errorf("%s: expected input of shape (batch, time, %d), got %s", r.label(), in, x.Describe()))
	}
	return x.Shape[0], x.Shape[1]
}

func (r *Recurrent) Forward(x *tensor.Tensor) *tensor.Tensor {
	c := r.cell()
	n, steps := r.sequence(c, x)
	r.output = tensor.Ensure(r.output, r.outShape...)
	c.forwardSeq(x.Data, n, steps, r.output.Data)
	r.n, r.steps = n, steps
	return r.output
}

func (r *Recurrent) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	c := r.cell()
	n, steps := r.sequence(c, x)
	if n != r.n || steps != r.steps {
		panic(fmt.Errorf("%s: backward input %s is not the last forward's (%d, %d, ·)", r.label(),
			tensor.ShapeString(x.Shape), r.n, r.steps))
	}
	_, h := c.sizes()
	if gy.IsTable() || gy.Len() != n*steps*h {
		panic(fmt.Errorf("%s: expected a gradient of shape (%d, %d, %d), got %s", r.label(), n, steps, h, gy.Describe()))
	}
	c.Meta().inputGradUnused = r.inputGradUnused // the cell's input is ours
	if r.inputGradUnused {
		c.backwardSeq(x.Data, gy.Data, n, steps, nil)
		return nil
	}
	r.gradIn = tensor.Ensure(r.gradIn, x.Shape...)
	c.backwardSeq(x.Data, gy.Data, n, steps, r.gradIn.Data)
	return r.gradIn
}

// HiddenState is the state after the last step of the last forward: the
// hidden state, and for an LSTM the cell state too, each (batch, hidden).
func (r *Recurrent) HiddenState() ([]*tensor.Tensor, error) {
	if len(r.children) == 0 || r.output == nil {
		return nil, fmt.Errorf("%s: get_hidden_state needs a forward first", r.label())
	}
	return r.cell().finalState(r.output.Data, r.n, r.steps), nil
}
