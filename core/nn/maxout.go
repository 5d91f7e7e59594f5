package nn

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Maxout and Highway are BigDL layers built from Linear: Maxout's output j
// is the largest of Linear's outputs k·out + j (BigDL's View(k, out) then
// Max over k); Highway mixes a transform of its input with the input itself
// through a learned gate. Each owns its Linears (not children: BigDL's
// signature builds them), passes its flags on to them, and lists their
// parameters as its own.

func init() {
	Register("Maxout", func(a *Args) (Module, error) {
		in, out, k := a.PositiveInt("input_size"), a.PositiveInt("output_size"), a.PositiveInt("maxout_number")
		return NewMaxout(in, out, k, a.Bool("with_bias", true)), nil
	})
	Register("Highway", func(a *Args) (Module, error) {
		size := a.PositiveInt("size")
		h := &Highway{Base: newBase("Highway"), Size: size, gate: NewLinear(size, size, a.Bool("with_bias", true)),
			transform: NewLinear(size, size, a.Bool("with_bias", true))}
		if spec := a.Object("activation"); spec != nil {
			raw, _ := json.Marshal(spec)
			var d Definition
			if err := json.Unmarshal(raw, &d); err != nil {
				return nil, fmt.Errorf("Highway: argument activation must describe a layer: %v", err)
			}
			act, err := Build(d)
			if err != nil {
				return nil, fmt.Errorf("Highway: activation: %w", err)
			}
			// Its gradients would escape the flags Highway passes on to the layers it owns.
			if _, ok := act.(Container); ok || len(act.Params()) > 0 {
				return nil, fmt.Errorf("Highway: activation must be a single layer without parameters, got %s", act.String())
			}
			h.act, h.actDef = act, spec
		}
		return h, nil
	})
}

// syncInner gives an owned Linear the owner's mode and gradient flags.
func syncInner(owner *Base, inner *Linear) {
	inner.training, inner.frozen, inner.gradsOverwritten = owner.training, owner.frozen, owner.gradsOverwritten
}

// Maxout is Linear(in, out·k) followed by the maximum over each of out groups of k.
type Maxout struct {
	Base
	In, Out, K int
	lin        *Linear
	arg        []int32 // which of the k candidates won, per output element
	output     *tensor.Tensor
	gradLin    *tensor.Tensor
}

// NewMaxout builds its Linear with BigDL's default initialisation.
func NewMaxout(in, out, k int, bias bool) *Maxout {
	return &Maxout{Base: newBase("Maxout"), In: in, Out: out, K: k, lin: NewLinear(in, out*k, bias)}
}

func (m *Maxout) Params() []*Param         { return m.lin.Params() }
func (m *Maxout) Reset()                   { m.lin.Reset() }
func (m *Maxout) Fans(p *Param) (int, int) { return m.lin.Fans(p) }
func (m *Maxout) overwritesGrads()         {}
func (m *Maxout) SetInitMethods(w, b InitMethod) error {
	return m.lin.SetInitMethods(w, b)
}
func (m *Maxout) Config() map[string]any {
	return map[string]any{"input_size": m.In, "output_size": m.Out, "maxout_number": m.K, "with_bias": m.lin.Bias != nil}
}
func (m *Maxout) String() string {
	return fmt.Sprintf("Maxout[%s](%d -> %d, %d)", m.name, m.In, m.Out, m.K)
}

func (m *Maxout) Forward(x *tensor.Tensor) *tensor.Tensor {
	syncInner(&m.Base, m.lin)
	vectorRows(m, x, m.In)
	z := m.lin.Forward(x)
	n := z.Len() / (m.Out * m.K)
	if x.Dims() == 1 {
		m.output = tensor.Ensure(m.output, m.Out)
	} else {
		m.output = tensor.Ensure(m.output, n, m.Out)
	}
	if cap(m.arg) < n*m.Out {
		m.arg = make([]int32, n*m.Out)
	}
	m.arg = m.arg[:n*m.Out]
	for r := 0; r < n; r++ {
		row := z.Data[r*m.Out*m.K : (r+1)*m.Out*m.K]
		for j := 0; j < m.Out; j++ {
			best, arg := float32(math.Inf(-1)), 0
			for k := 0; k < m.K; k++ {
				if v := row[k*m.Out+j]; v > best || k == 0 {
					best, arg = v, k
				}
			}
			m.output.Data[r*m.Out+j] = best
			m.arg[r*m.Out+j] = int32(arg)
		}
	}
	return m.output
}

func (m *Maxout) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	syncInner(&m.Base, m.lin)
	n := len(m.arg) / m.Out
	if gy.Len() != len(m.arg) {
		shapeError(m, fmt.Sprintf("a gradient of %d values after forward", len(m.arg)), gy.Shape)
	}
	m.gradLin = tensor.Ensure(m.gradLin, n, m.Out*m.K)
	clear(m.gradLin.Data)
	for i, g := range gy.Data {
		r, j := i/m.Out, i%m.Out
		m.gradLin.Data[r*m.Out*m.K+int(m.arg[i])*m.Out+j] = g
	}
	gl := m.gradLin
	if x.Dims() == 1 {
		gl = &tensor.Tensor{Shape: m.lin.output.Shape, Data: m.gradLin.Data}
	}
	return m.lin.Backward(x, gl)
}

// Highway is y = g ⊙ a(L2·x) + (1 - g) ⊙ x with the gate g = σ(L1·x) and
// an optional activation a, as BigDL's Highway graph; L1's parameters come
// first.
type Highway struct {
	Base
	Size            int
	gate, transform *Linear
	act             Module
	actDef          map[string]any
	g, h            *tensor.Tensor // gate and transformed values of the last forward
	output, gradIn  *tensor.Tensor
	dGate, dTrans   *tensor.Tensor
}

func (h *Highway) Params() []*Param {
	ps := append(append([]*Param{}, h.gate.Params()...), h.transform.Params()...)
	return ps
}
func (h *Highway) Reset() {
	h.gate.Reset()
	h.transform.Reset()
}
func (h *Highway) Fans(p *Param) (int, int) {
	if p.Value.Dims() == 2 {
		return FansOutIn(p.Value.Shape)
	}
	return FansOneD(p.Value.Shape)
}
func (h *Highway) overwritesGrads() {}
func (h *Highway) SetInitMethods(w, b InitMethod) error {
	if err := h.gate.SetInitMethods(w, b); err != nil {
		return err
	}
	return h.transform.SetInitMethods(w, b)
}
func (h *Highway) Config() map[string]any {
	return map[string]any{"size": h.Size, "with_bias": h.gate.Bias != nil, "activation": h.actDef}
}
func (h *Highway) String() string { return fmt.Sprintf("Highway[%s](%d)", h.name, h.Size) }

func (h *Highway) Forward(x *tensor.Tensor) *tensor.Tensor {
	syncInner(&h.Base, h.gate)
	syncInner(&h.Base, h.transform)
	vectorRows(h, x, h.Size)
	g := h.gate.Forward(x)
	h.g = tensor.Ensure(h.g, g.Shape...)
	for i, v := range g.Data {
		h.g.Data[i] = float32(1 / (1 + math.Exp(-float64(v))))
	}
	t := h.transform.Forward(x)
	if h.act != nil {
		h.act.Meta().training = h.training
		t = h.act.Forward(t)
	}
	h.h = t
	h.output = tensor.Ensure(h.output, x.Shape...)
	for i, v := range x.Data {
		gv := h.g.Data[i]
		h.output.Data[i] = gv*t.Data[i] + (1-gv)*v
	}
	return h.output
}

func (h *Highway) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	syncInner(&h.Base, h.gate)
	syncInner(&h.Base, h.transform)
	if gy.Len() != x.Len() || h.g == nil || h.g.Len() != x.Len() {
		shapeError(h, "a gradient shaped like the input "+tensor.ShapeString(x.Shape)+" after forward", gy.Shape)
	}
	h.dGate = tensor.Ensure(h.dGate, x.Shape...)
	h.dTrans = tensor.Ensure(h.dTrans, x.Shape...)
	h.gradIn = tensor.Ensure(h.gradIn, x.Shape...)
	for i, d := range gy.Data {
		gv := h.g.Data[i]
		h.dTrans.Data[i] = d * gv
		h.dGate.Data[i] = d * (h.h.Data[i] - x.Data[i]) * gv * (1 - gv)
		h.gradIn.Data[i] = d * (1 - gv)
	}
	dt := h.dTrans
	if h.act != nil {
		dt = h.act.Backward(h.transform.output, dt)
	}
	for i, v := range h.transform.Backward(x, dt).Data {
		h.gradIn.Data[i] += v
	}
	for i, v := range h.gate.Backward(x, h.dGate).Data {
		h.gradIn.Data[i] += v
	}
	return h.gradIn
}
