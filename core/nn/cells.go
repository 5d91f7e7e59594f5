package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// cellCore is what the cells share (RnnCell, LSTM, LSTMPeephole, GRU,
// ConvLSTMPeephole): the input projection of every step, x·Wᵀ + b into
// `gates` blocks of hidden values per step, and the recurrent product
// h_{t−1}·Uᵀ into the first `recGates` of them (convolutions instead for
// ConvLSTMPeephole), with dropout masks and RecurrentDecoder's feedback.
//
// Buffers are (batch, T, ·), the layout of the input and output: a step's
// rows are T rows apart, which the matrix products take as a leading
// dimension, so nothing is transposed.
type cellCore struct {
	Base
	In, Hidden      int
	gates, recGates int
	W, B, U         *Param // B may be nil (RnnCell without input bias)
	BH              *Param // a bias of the recurrent product, folded into B's: RnnCell's, LSTM's with dropout
	params          []*Param
	inits           initMethods // nil methods: BigDL's default for each parameter
	self            Initialized // the cell that embeds this core
	drawOrder       []*Param    // BigDL's order of initialisation
	act, inner      gateActivation
	P               float64   // dropout probability of the inputs and states (LSTM, GRU)
	rng             *rng.MT   // nil: the global generator
	inMask          []float32 // (gates, batch, input): each gate's input mask
	recMask         []float32 // (recGates, batch, hidden): each recurrent gate's state mask
	scratch         []float32 // a masked copy of the input or the states, or a product
	// feedback: RecurrentDecoder's mode, where step t's input is h_{t−1} and
	// only step 0's comes from outside, (batch, input).
	feedback bool
	fed      []float32 // every step's input in feedback mode, (batch, T, input)
	// conv: ConvLSTMPeephole's convolutions, which replace the products; nil in the other cells.
	conv       *convProjection
	convConfig map[string]any

	pre    []float32 // projections, then each gate's activation
	hprev  []float32 // the hidden state each step started from
	dpre   []float32 // the gradient of the pre-activations
	dh     []float32 // (batch, hidden): the gradient reaching h_t from step t+1
	xh     []float32 // (batch, T, input+hidden): each step's input beside h_{t−1}
	gradWU []float32 // (input+hidden, gates·hidden): the gradients of W and U side by side, transposed
	state  []*tensor.Tensor
	// uT and uN are U packed as the B operand of the recurrent products,
	// op(B) = Uᵀ forward and U backward: every step multiplies by the same
	// U, which Sgemm would pack again each time. Without dropout, uT[0] and
	// uN[0] hold all of U; under dropout, element k holds gate k's block,
	// which multiplies that gate's masked state. Each is packed at the
	// start of its pass (startBuffers, startBackward), which every sequence
	// pass runs before its first product, so it never outlives a change of U.
	uT, uN []kernels.PackedB
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
			kind == "b" && p == c.BH && c.P > 0,               // BigDL's LSTM regularizes its recurrent biases; RnnCell does not
			kind == "u" && (p == c.U || p.Name == "weightHN"): // not the peepholes, as in BigDL
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
	if c.conv != nil { // the convolutions keep their own methods (and fans); the peepholes are weights
		if err := c.conv.x.inits.set(c.conv.x, c.conv.x.Weight, c.conv.x.Bias, w, b); err != nil {
			return err
		}
		if err := c.conv.h.inits.set(c.conv.h, c.conv.h.Weight, nil, w, nil); err != nil {
			return err
		}
	}
	for _, p := range c.params {
		m := w
		if p.Value.Dims() == 1 {
			m = b
		}
		if m != nil && (c.conv == nil || p != c.W && p != c.B && p != c.U) {
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
	if c.conv != nil {
		c.conv.x.Reset()
		c.conv.h.Reset()
	}
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

// masked reports whether this forward drops inputs and states: dropout p
// in training mode.
func (c *cellCore) masked() bool { return c.P > 0 && c.training }

// UseRNG gives the cell its own generator for dropout masks (see Dropout).
func (c *cellCore) UseRNG(g *rng.MT) { c.rng = g }

// sampleMasks draws BigDL's recurrent dropout masks for a batch of n: each
// gate has its own mask of the input and of the state (0, or 1/(1−p) to keep
// the expectation), drawn once per sequence and used at every step, as
// BigDL's Recurrent shares its first step's dropout noise with every step.
func (c *cellCore) sampleMasks(n int, extra ...*[]float32) {
	c.inMask = grow(c.inMask, c.gates*n*c.In)
	c.recMask = grow(c.recMask, c.recGates*n*c.Hidden)
	draw := func(g *rng.MT) {
		c.fillMask(g, c.inMask)
		c.fillMask(g, c.recMask)
		for _, m := range extra {
			c.fillMask(g, *m)
		}
	}
	if c.rng != nil {
		draw(c.rng)
	} else {
		rng.Global.Do(draw)
	}
}

func (c *cellCore) fillMask(g *rng.MT, m []float32) {
	keep := float32(1 / (1 - c.P))
	for i := range m {
		if g.Uniform(0, 1) < c.P {
			m[i] = 0
		} else {
			m[i] = keep
		}
	}
}

// maskSteps writes src ⊙ mask into dst for every step: src and dst are
// (n, steps, w), mask is (n, w), one row per record.
func maskSteps(dst, src, mask []float32, n, steps, w int) []float32 {
	dst = grow(dst, n*steps*w)
	for b := 0; b < n; b++ {
		m := mask[b*w : (b+1)*w]
		for t := 0; t < steps; t++ {
			o := (b*steps + t) * w
			d, s := dst[o:o+w], src[o:o+w]
			for j := range d {
				d[j] = s[j] * m[j]
			}
		}
	}
	return dst
}

// project fills pre with x·Wᵀ + biases for every step at once: one
// product, or one per gate when each gate sees its own dropped input.
func (c *cellCore) project(x []float32, n, steps int, biases ...*Param) {
	if c.conv != nil {
		c.convProject(x, n, steps)
		return
	}
	h, g, rows := c.Hidden, c.gates*c.Hidden, n*steps
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
	if c.feedback { // only step 0's input is known yet; recur adds the others'
		kernels.Sgemm(false, true, n, g, c.In, 1, x, c.In, c.W.Value.Data, c.In, beta, c.pre, steps*g)
		return
	}
	if !c.masked() {
		kernels.Sgemm(false, true, rows, g, c.In, 1, x, c.In, c.W.Value.Data, c.In, beta, c.pre, g)
		return
	}
	for k := 0; k < c.gates; k++ {
		c.scratch = maskSteps(c.scratch, x, c.inMask[k*n*c.In:], n, steps, c.In)
		kernels.Sgemm(false, true, rows, h, c.In, 1, c.scratch, c.In, c.W.Value.Data[k*h*c.In:], c.In, beta, c.pre[k*h:], g)
	}
}

// recur adds h_{t−1}·Uᵀ into the recurrent gates of step t (t ≥ 1), and
// in feedback mode h_{t−1}·Wᵀ too, h_{t−1} being the step's input.
func (c *cellCore) recur(n, steps, t int) {
	if c.conv != nil {
		c.convRecur(n, steps, t)
		return
	}
	h, g := c.Hidden, c.gates*c.Hidden
	if c.feedback {
		kernels.Sgemm(false, true, n, g, h, 1, c.hprev[t*h:], steps*h, c.W.Value.Data, c.In, 1, c.pre[t*g:], steps*g)
	}
	if !c.masked() {
		kernels.SgemmPackedB(false, n, 1, c.hprev[t*h:], steps*h, &c.uT[0], 1, c.pre[t*g:], steps*g)
		return
	}
	c.scratch = grow(c.scratch, n*h)
	for k := 0; k < c.recGates; k++ {
		mask := c.recMask[k*n*h:]
		for b := 0; b < n; b++ {
			d, s, m := c.scratch[b*h:(b+1)*h], c.hprev[(b*steps+t)*h:], mask[b*h:]
			for j := range d {
				d[j] = s[j] * m[j]
			}
		}
		kernels.SgemmPackedB(false, n, 1, c.scratch, h, &c.uT[k], 1, c.pre[t*g+k*h:], steps*g)
	}
}

// startBuffers sizes the per-sequence buffers (the state before step 0 is
// zero) and packs U for the forward pass's recurrent products.
func (c *cellCore) startBuffers(n, steps int) {
	h := c.Hidden
	c.hprev = grow(c.hprev, n*steps*h)
	for b := 0; b < n; b++ {
		clear(c.hprev[b*steps*h : b*steps*h+h])
	}
	c.uT = c.packU(c.uT, true, n, steps)
}

// packU packs U, for the recurrent products of a pass over steps of a
// dense cell, into packed (grown to recGates values on first use): as
// op(B) = Uᵀ if trans (forward), else as op(B) = U (backward); whole, or
// gate by gate under dropout (see uT).
func (c *cellCore) packU(packed []kernels.PackedB, trans bool, n, steps int) []kernels.PackedB {
	if c.conv != nil || steps < 2 {
		return packed
	}
	if len(packed) < c.recGates {
		packed = make([]kernels.PackedB, c.recGates)
	}
	h, u := c.Hidden, c.U.Value.Data
	blocks, rows := 1, c.recGates*h // the gate blocks packed, and U's rows in each
	if c.masked() {
		blocks, rows = c.recGates, h
	}
	for k := 0; k < blocks; k++ {
		if trans {
			packed[k].Pack(true, n, rows, h, u[k*h*h:], h)
		} else {
			packed[k].Pack(false, n, h, rows, u[k*h*h:], h)
		}
	}
	return packed
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
	c.uN = c.packU(c.uN, false, n, steps)
	if c.conv != nil && !c.frozen && c.gradsOverwritten {
		clear(c.U.Grad.Data) // the state's convolution adds its gradient step by step
	}
}

// recurGrad sets dh to the gradient reaching h_{t−1} through step t's
// recurrent product (beta 1 adds to what dh holds).
func (c *cellCore) recurGrad(n, steps, t int, beta float32) {
	if c.conv != nil {
		c.convRecurGrad(n, steps, t, beta)
		return
	}
	h, g := c.Hidden, c.gates*c.Hidden
	if !c.masked() {
		kernels.SgemmPackedB(false, n, 1, c.dpre[t*g:], steps*g, &c.uN[0], beta, c.dh, h)
		if c.feedback { // h_{t−1} was also step t's input
			kernels.Sgemm(false, false, n, h, g, 1, c.dpre[t*g:], steps*g, c.W.Value.Data, c.In, 1, c.dh, h)
		}
		return
	}
	if beta == 0 {
		clear(c.dh)
	}
	c.scratch = grow(c.scratch, n*h)
	for k := 0; k < c.recGates; k++ {
		kernels.SgemmPackedB(false, n, 1, c.dpre[t*g+k*h:], steps*g, &c.uN[k], 0, c.scratch, h)
		mask := c.recMask[k*n*h:]
		for i, v := range c.scratch {
			c.dh[i] += v * mask[i]
		}
	}
}

// finishBackward turns the pre-activation gradients of every step into the
// parameter gradients and the input gradient: one matrix product each, or
// one per gate under dropout.
func (c *cellCore) finishBackward(x []float32, n, steps int, gx []float32, biases ...*Param) {
	if c.conv != nil {
		c.convFinish(x, n, steps, gx)
		return
	}
	h, g, rows := c.Hidden, c.gates*c.Hidden, n*steps
	if !c.frozen {
		beta := float32(1)
		if c.gradsOverwritten {
			beta = 0
		}
		if c.feedback {
			x = c.fedInputs(x, n, steps)
		}
		switch {
		case !c.masked() && c.recGates == c.gates:
			c.weightGrads(x, rows, beta)
		case !c.masked():
			kernels.Sgemm(true, false, g, c.In, rows, 1, c.dpre, g, x, c.In, beta, c.W.Grad.Data, c.In)
			kernels.Sgemm(true, false, c.recGates*h, h, rows, 1, c.dpre, g, c.hprev, h, beta, c.U.Grad.Data, h)
		default:
			for k := 0; k < c.gates; k++ {
				c.scratch = maskSteps(c.scratch, x, c.inMask[k*n*c.In:], n, steps, c.In)
				kernels.Sgemm(true, false, h, c.In, rows, 1, c.dpre[k*h:], g, c.scratch, c.In, beta, c.W.Grad.Data[k*h*c.In:], c.In)
			}
			for k := 0; k < c.recGates; k++ {
				c.scratch = maskSteps(c.scratch, c.hprev, c.recMask[k*n*h:], n, steps, h)
				kernels.Sgemm(true, false, h, h, rows, 1, c.dpre[k*h:], g, c.scratch, h, beta, c.U.Grad.Data[k*h*h:], h)
			}
		}
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
	if gx == nil {
		return
	}
	if c.feedback { // the gradient of step 0's input; the others' went to the states
		kernels.Sgemm(false, false, n, c.In, g, 1, c.dpre, steps*g, c.W.Value.Data, c.In, 0, gx, c.In)
		return
	}
	if !c.masked() {
		kernels.Sgemm(false, false, rows, c.In, g, 1, c.dpre, g, c.W.Value.Data, c.In, 0, gx, c.In)
		return
	}
	c.scratch = grow(c.scratch, rows*c.In)
	for k := 0; k < c.gates; k++ {
		kernels.Sgemm(false, false, rows, c.In, h, 1, c.dpre[k*h:], g, c.W.Value.Data[k*h*c.In:], c.In, 0, c.scratch, c.In)
		mask := c.inMask[k*n*c.In:]
		for b := 0; b < n; b++ {
			m := mask[b*c.In : (b+1)*c.In]
			for t := 0; t < steps; t++ {
				o := (b*steps + t) * c.In
				d, s := gx[o:o+c.In], c.scratch[o:o+c.In]
				for j := range d {
					if k == 0 {
						d[j] = s[j] * m[j]
					} else {
						d[j] += s[j] * m[j]
					}
				}
			}
		}
	}
}

// weightGrads sets (beta 0) or adds to (beta 1) the gradients of W and U
// as one product, rather than dpreᵀ·x and dpreᵀ·h_{t−1}: dpre, every step's
// gate gradients, is the largest operand, and packing it (a transposing
// copy of a buffer larger than L2) took as long as the narrow product with
// x. The product is computed transposed, [x h_{t−1}]ᵀ·dpre, and transposed
// back: dpre is then the B operand, read along its rows, and the operand
// packed is the narrow [x h_{t−1}] (LSTM(28→128): 2.1 instead of 2.5 ms on
// one core). Cells whose U covers fewer gates than W (GRU) keep the two
// products, which compute no rows of U that do not exist.
func (c *cellCore) weightGrads(x []float32, rows int, beta float32) {
	in, h, g := c.In, c.Hidden, c.gates*c.Hidden
	w := in + h
	c.xh = grow(c.xh, rows*w)
	for r := 0; r < rows; r++ {
		copy(c.xh[r*w:r*w+in], x[r*in:(r+1)*in])
		copy(c.xh[r*w+in:(r+1)*w], c.hprev[r*h:(r+1)*h])
	}
	c.gradWU = grow(c.gradWU, w*g)
	kernels.Sgemm(true, false, w, g, rows, 1, c.xh, w, c.dpre, g, 0, c.gradWU, g) // (in+hidden, gates·hidden)
	if beta == 0 {
		kernels.Transpose(in, g, c.gradWU, g, c.W.Grad.Data, in)
		kernels.Transpose(h, g, c.gradWU[in*g:], g, c.U.Grad.Data, h)
		return
	}
	c.scratch = grow(c.scratch, g*w)
	kernels.Transpose(w, g, c.gradWU, g, c.scratch, w)
	for j := 0; j < g; j++ {
		kernels.Axpy(1, c.scratch[j*w:j*w+in], c.W.Grad.Data[j*in:(j+1)*in])
		kernels.Axpy(1, c.scratch[j*w+in:(j+1)*w], c.U.Grad.Data[j*h:(j+1)*h])
	}
}

// fedInputs is every step's input in feedback mode: x at step 0, then the
// states h_0 … h_{T−2}.
func (c *cellCore) fedInputs(x []float32, n, steps int) []float32 {
	c.fed = grow(c.fed, len(c.hprev))
	copy(c.fed, c.hprev)
	for b := 0; b < n; b++ {
		copy(c.fed[b*steps*c.In:b*steps*c.In+c.In], x[b*c.In:(b+1)*c.In])
	}
	return c.fed
}

// setFeedback switches RecurrentDecoder's mode on or off.
func (c *cellCore) setFeedback(on bool) error {
	if on && c.conv != nil {
		return fmt.Errorf("%s: RecurrentDecoder runs dense cells, not convolutional ones", c.self.String())
	}
	if on && c.P > 0 {
		return fmt.Errorf("%s: RecurrentDecoder runs cells without dropout (p = 0), got p = %v", c.self.String(), c.P)
	}
	c.feedback = on
	return nil
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

func (c *cellCore) String() string {
	out := c.Hidden
	if c.conv != nil {
		out = c.conv.h.NIn // Hidden is the state's size, channels by plane
	}
	return fmt.Sprintf("%s[%s](%d, %d)", c.class, c.name, c.In, out)
}

// Forward refuses a cell used outside Recurrent: a cell runs whole
// sequences, which BigDL's single-step form ([x, h] in, [y, h] out) is not.
func (c *cellCore) Forward(x *tensor.Tensor) *tensor.Tensor {
	panic(fmt.Errorf("%s is a recurrent cell: put it in Recurrent() (Recurrent().add(cell)) to run it over a sequence",
		c.String()))
}
func (c *cellCore) Backward(x, gy *tensor.Tensor) *tensor.Tensor { return c.Forward(x) }
