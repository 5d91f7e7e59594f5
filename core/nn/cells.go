package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// cellCore is what RnnCell, LSTM and GRU share: the input projection of
// every step, x·Wᵀ + b into `gates` blocks of hidden values per step, and
// the recurrent product h_{t−1}·Uᵀ into the first `recGates` of them.
//
// Buffers are (batch, T, ·), the layout of the input and output: a step's
// rows are T rows apart, which the matrix products take as a leading
// dimension, so nothing is transposed.
type cellCore struct {
	Base
	In, Hidden      int
	gates, recGates int
	W, B, U         *Param // B may be nil (RnnCell without input bias)
	params          []*Param
	inits           initMethods // nil methods: BigDL's default for each parameter
	self            Initialized // the cell that embeds this core
	drawOrder       []*Param    // BigDL's order of initialisation
	act, inner      gateActivation

	pre   []float32 // projections, then each gate's activation
	hprev []float32 // the hidden state each step started from
	dpre  []float32 // the gradient of the pre-activations
	dh    []float32 // (batch, hidden): the gradient reaching h_t from step t+1
	state []*tensor.Tensor
}

func newCellCore(class string, in, hidden, gates, recGates int) cellCore {
	return cellCore{Base: newBase(class), In: in, Hidden: hidden, gates: gates, recGates: recGates,
		W: newParam("weight", gates*hidden, in), U: newParam("weightH", recGates*hidden, hidden)}
}

func (c *cellCore) sizes() (int, int) { return c.In, c.Hidden }
func (c *cellCore) Params() []*Param  { return c.params }
func (c *cellCore) overwritesGrads()  {}

// RegularizedParams: wRegularizer takes the input weights, uRegularizer the
// recurrent ones, bRegularizer the input bias, as BigDL's cells pass them to
// their Linear layers.
func (c *cellCore) RegularizedParams(kind string) []*Param {
	var out []*Param
	for _, p := range c.params {
		switch {
		case kind == "w" && p == c.W, kind == "b" && p == c.B,
			kind == "u" && p.Name != "bias" && p.Name != "biasH" && p != c.W:
			out = append(out, p)
		}
	}
	return out
}

// Fans: every weight is a Linear's (out, in) matrix, every bias ONE_D.
func (c *cellCore) Fans(p *Param) (int, int) {
	if p.Value.Dims() == 2 {
		return FansOutIn(p.Value.Shape)
	}
	return FansOneD(p.Value.Shape)
}

// initialize records the cell and its parameters' draw order (nil ones
// skipped: absent biases) and draws them.
func (c *cellCore) initialize(self Initialized, order ...*Param) {
	c.self = self
	for _, p := range order {
		if p != nil {
			c.drawOrder = append(c.drawOrder, p)
		}
	}
	c.Reset()
}

func (c *cellCore) SetInitMethods(w, b InitMethod) error {
	for _, p := range c.params {
		m := w
		if p.Value.Dims() == 1 {
			m = b
		}
		if m != nil {
			if err := m.Check(p.Value.Shape); err != nil {
				return fmt.Errorf("%s: %w", c.self.String(), err)
			}
		}
	}
	if w != nil {
		c.inits.weight = w
	}
	if b != nil {
		c.inits.bias = b
	}
	c.Reset()
	return nil
}

// Reset draws the parameters in BigDL's order (it builds the recurrent
// Linear of LSTM and GRU before the input one), each by the set method or
// BigDL's Linear default, U(±1/√fan_in), where fan_in is the Linear's input
// width: the layer's input size for the input projection, hidden otherwise.
func (c *cellCore) Reset() {
	for _, p := range c.drawOrder {
		m := c.inits.weight
		if p.Value.Dims() == 1 {
			m = c.inits.bias
		}
		if m == nil {
			fanIn := c.Hidden
			if p == c.W || p == c.B {
				fanIn = c.In
			}
			s := 1 / math.Sqrt(float64(fanIn))
			m = uniformInit{class: "RandomUniform", lower: -s, upper: s, fixed: true}
		}
		pm := initMethods{weight: m}
		pm.draw(c.self, p, nil)
	}
}

// project fills pre with x·Wᵀ + biases for every step at once.
func (c *cellCore) project(x []float32, rows int, biases ...*Param) {
	g := c.gates * c.Hidden
	c.pre = grow(c.pre, rows*g)
	beta := float32(0)
	for _, b := range biases {
		if b == nil {
			continue
		}
		if beta == 0 {
			for r := 0; r < rows; r++ {
				copy(c.pre[r*g:(r+1)*g], b.Value.Data)
			}
		} else {
			kernels.AddRowVector(c.pre, rows, g, b.Value.Data)
		}
		beta = 1
	}
	kernels.Sgemm(false, true, rows, g, c.In, 1, x, c.In, c.W.Value.Data, c.In, beta, c.pre, g)
}

// recur adds h_{t−1}·Uᵀ into the recurrent gates of step t (t ≥ 1).
func (c *cellCore) recur(n, steps, t int) {
	h, g := c.Hidden, c.gates*c.Hidden
	kernels.Sgemm(false, true, n, c.recGates*h, h, 1, c.hprev[t*h:], steps*h, c.U.Value.Data, h, 1, c.pre[t*g:], steps*g)
}

// startBuffers sizes the per-sequence buffers; the state before step 0 is zero.
func (c *cellCore) startBuffers(n, steps int) {
	h := c.Hidden
	c.hprev = grow(c.hprev, n*steps*h)
	for b := 0; b < n; b++ {
		clear(c.hprev[b*steps*h : b*steps*h+h])
	}
}

// keep records h_t of record b as the next step's previous state.
func (c *cellCore) keep(b, steps, t int, ht []float32) {
	if t+1 < steps {
		h := c.Hidden
		copy(c.hprev[(b*steps+t+1)*h:(b*steps+t+2)*h], ht)
	}
}

// startBackward sizes the gradient buffers and clears the gradients when
// Backward overwrites them.
func (c *cellCore) startBackward(n, steps int) {
	c.dpre = grow(c.dpre, n*steps*c.gates*c.Hidden)
	c.dh = grow(c.dh, n*c.Hidden)
	clear(c.dh)
}

// recurGrad sets dh to the gradient reaching h_{t−1} through step t's
// recurrent product (beta 1 adds to what dh holds).
func (c *cellCore) recurGrad(n, steps, t int, beta float32) {
	h, g := c.Hidden, c.gates*c.Hidden
	kernels.Sgemm(false, false, n, h, c.recGates*h, 1, c.dpre[t*g:], steps*g, c.U.Value.Data, h, beta, c.dh, h)
}

// finishBackward turns the pre-activation gradients of every step into the
// parameter gradients and the input gradient, one matrix product each.
func (c *cellCore) finishBackward(x []float32, rows int, gx []float32, biases ...*Param) {
	h, g := c.Hidden, c.gates*c.Hidden
	if !c.frozen {
		beta := float32(1)
		if c.gradsOverwritten {
			beta = 0
		}
		kernels.Sgemm(true, false, g, c.In, rows, 1, c.dpre, g, x, c.In, beta, c.W.Grad.Data, c.In)
		kernels.Sgemm(true, false, c.recGates*h, h, rows, 1, c.dpre, g, c.hprev, h, beta, c.U.Grad.Data, h)
		for _, b := range biases {
			if b == nil {
				continue
			}
			if c.gradsOverwritten {
				clear(b.Grad.Data)
			}
			kernels.SumRows(b.Grad.Data, c.dpre, rows, g)
		}
	}
	if gx != nil {
		kernels.Sgemm(false, false, rows, c.In, g, 1, c.dpre, g, c.W.Value.Data, c.In, 0, gx, c.In)
	}
}

// gatedConfig is the constructor arguments of LSTM and GRU.
func (c *cellCore) gatedConfig(p float64) map[string]any {
	return map[string]any{"input_size": c.In, "hidden_size": c.Hidden, "p": p, "activation": c.act.name,
		"inner_activation": c.inner.name}
}

// lastOf copies h after the last step of every record into a new tensor.
func lastOf(buf []float32, n, steps, h int) *tensor.Tensor {
	t := tensor.New(n, h)
	for b := 0; b < n; b++ {
		copy(t.Data[b*h:(b+1)*h], buf[((b+1)*steps-1)*h:(b+1)*steps*h])
	}
	return t
}

func (c *cellCore) describeSizes() string {
	return fmt.Sprintf("%s[%s](%d, %d)", c.class, c.name, c.In, c.Hidden)
}
func (c *cellCore) String() string { return c.describeSizes() }

// cellForwardOnly refuses a cell used outside Recurrent.
func (c *cellCore) Forward(x *tensor.Tensor) *tensor.Tensor {
	panic(fmt.Errorf("%s is a recurrent cell: put it in Recurrent() (Recurrent().add(cell)) to run it over a sequence",
		c.String()))
}
func (c *cellCore) Backward(x, gy *tensor.Tensor) *tensor.Tensor { return c.Forward(x) }
