package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// MultiRNNCell stacks cells: at every step each cell reads the output of
// the one below. Since a cell's step t needs only the lower cell's step t
// and its own past, the stack runs one whole sequence per cell, bottom up,
// and backward top down.
type MultiRNNCell struct {
	Base
	children []Module
	outs     [][]float32 // each cell's output but the last's, (batch, T, its hidden)
	grads    [][]float32 // the gradient of each cell's input but the first's
}

func init() {
	Register("MultiRNNCell", func(a *Args) (Module, error) { return &MultiRNNCell{Base: newBase("MultiRNNCell")}, nil })
}

func (m *MultiRNNCell) label() string          { return fmt.Sprintf("MultiRNNCell[%s]", m.name) }
func (m *MultiRNNCell) Children() []Module     { return m.children }
func (m *MultiRNNCell) Params() []*Param       { return nil }
func (m *MultiRNNCell) Config() map[string]any { return map[string]any{} }
func (m *MultiRNNCell) String() string         { return containerString(&m.Base, m.children) }
func (m *MultiRNNCell) Reset() {
	for _, c := range m.children {
		c.Reset()
	}
}

// Add stacks a cell on top; its input size must be the hidden size below.
func (m *MultiRNNCell) Add(c Module) error {
	cell, ok := c.(sequenceCell)
	if !ok || convolutional(c) {
		return fmt.Errorf("%s: expected a recurrent cell (RnnCell, LSTM, LSTMPeephole, GRU), got %s", m.label(), c.String())
	}
	if len(m.children) > 0 {
		_, below := m.cell(len(m.children) - 1).sizes()
		if in, _ := cell.sizes(); in != below {
			return fmt.Errorf("%s: %s takes inputs of %d, but the cell below gives %d", m.label(), c.String(), in, below)
		}
	}
	return addChild(m, &m.children, c)
}

func (m *MultiRNNCell) cell(i int) sequenceCell { return m.children[i].(sequenceCell) }

func (m *MultiRNNCell) sizes() (int, int) {
	if len(m.children) == 0 {
		panic(fmt.Errorf("%s has no cells: give it some before running it", m.label()))
	}
	in, _ := m.cell(0).sizes()
	_, h := m.cell(len(m.children) - 1).sizes()
	return in, h
}

// A MultiRNNCell runs only inside Recurrent, as its cells do.
func (m *MultiRNNCell) Forward(x *tensor.Tensor) *tensor.Tensor {
	panic(fmt.Errorf("%s is a recurrent cell: put it in Recurrent() to run it over a sequence", m.label()))
}
func (m *MultiRNNCell) Backward(x, gy *tensor.Tensor) *tensor.Tensor { return m.Forward(x) }

func (m *MultiRNNCell) forwardSeq(x []float32, n, steps int, out []float32) {
	k := len(m.children)
	for len(m.outs) < k-1 {
		m.outs = append(m.outs, nil)
		m.grads = append(m.grads, nil)
	}
	in := x
	for i := 0; i < k; i++ {
		dst := out
		if i < k-1 {
			_, h := m.cell(i).sizes()
			m.outs[i] = grow(m.outs[i], n*steps*h)
			dst = m.outs[i]
		}
		m.cell(i).forwardSeq(in, n, steps, dst)
		in = dst
	}
}

func (m *MultiRNNCell) backwardSeq(x, gy []float32, n, steps int, gx []float32) {
	g := gy
	for i := len(m.children) - 1; i >= 0; i-- {
		in, dst := x, gx
		if i > 0 {
			in = m.outs[i-1]
			m.grads[i-1] = grow(m.grads[i-1], len(in))
			dst = m.grads[i-1]
		}
		m.cell(i).Meta().inputGradUnused = i == 0 && gx == nil
		m.cell(i).backwardSeq(in, g, n, steps, dst)
		g = dst
	}
}

// finalState lists each cell's final states, bottom up.
func (m *MultiRNNCell) finalState(out []float32, n, steps int) []*tensor.Tensor {
	var states []*tensor.Tensor
	for i := range m.children {
		o := out
		if i < len(m.children)-1 {
			o = m.outs[i]
		}
		states = append(states, m.cell(i).finalState(o, n, steps)...)
	}
	return states
}
