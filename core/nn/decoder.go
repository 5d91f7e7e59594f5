package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// RecurrentDecoder runs its cell OutputLength steps from one (batch,
// input) input: step 0 reads it, every later step reads the previous
// step's output, so the cell's input size must equal its hidden size. The
// output is every step's hidden state, (batch, OutputLength, hidden).
type RecurrentDecoder struct {
	Recurrent
	Length int
}

// feedbackCell is a cell that can read its own previous output.
type feedbackCell interface {
	setFeedback(on bool) error
}

func init() {
	Register("RecurrentDecoder", func(a *Args) (Module, error) {
		return &RecurrentDecoder{Recurrent: Recurrent{Base: newBase("RecurrentDecoder")}, Length: a.PositiveInt("output_length")}, nil
	})
}

func (d *RecurrentDecoder) Config() map[string]any { return map[string]any{"output_length": d.Length} }
func (d *RecurrentDecoder) String() string         { return containerString(&d.Base, d.children) }

// Add sets the cell: one whose input size is its hidden size.
func (d *RecurrentDecoder) Add(m Module) error {
	if _, ok := m.(feedbackCell); !ok {
		return fmt.Errorf("%s: expected a cell (RnnCell, LSTM, LSTMPeephole, GRU), got %s", d.label(), m.String())
	}
	if c, ok := m.(sequenceCell); ok {
		if in, h := c.sizes(); in != h {
			return fmt.Errorf("%s: each step reads the last one's output, so %s needs input size = hidden size, got %d and %d",
				d.label(), m.String(), in, h)
		}
	}
	return d.Recurrent.Add(m)
}

func (d *RecurrentDecoder) start(x *tensor.Tensor) (sequenceCell, int) {
	c := d.cell()
	in, _ := c.sizes()
	if x.IsTable() || x.Dims() != 2 || x.Shape[1] != in || x.Shape[0] == 0 {
		panic(fmt.Errorf("%s: expected input of shape (batch, %d), got %s", d.label(), in, x.Describe()))
	}
	if err := c.(feedbackCell).setFeedback(true); err != nil {
		panic(err)
	}
	return c, x.Shape[0]
}

func (d *RecurrentDecoder) Forward(x *tensor.Tensor) *tensor.Tensor {
	c, n := d.start(x)
	_, h := c.sizes()
	d.output = tensor.Ensure(d.output, n, d.Length, h)
	c.forwardSeq(x.Data, n, d.Length, d.output.Data)
	d.n, d.steps = n, d.Length
	return d.output
}

func (d *RecurrentDecoder) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	c, n := d.start(x)
	_, h := c.sizes()
	if n != d.n {
		panic(fmt.Errorf("%s: backward input %s is not the last forward's (%d, ·)", d.label(), tensor.ShapeString(x.Shape), d.n))
	}
	if gy.IsTable() || gy.Len() != n*d.Length*h {
		panic(fmt.Errorf("%s: expected a gradient of shape (%d, %d, %d), got %s", d.label(), n, d.Length, h, gy.Describe()))
	}
	c.Meta().inputGradUnused = d.inputGradUnused
	if d.inputGradUnused {
		c.backwardSeq(x.Data, gy.Data, n, d.Length, nil)
		return nil
	}
	d.gradIn = tensor.Ensure(d.gradIn, x.Shape...)
	c.backwardSeq(x.Data, gy.Data, n, d.Length, d.gradIn.Data)
	return d.gradIn
}
