package nn

import (
	"fmt"
	"math"
)

// Regularizer adds the gradient of the penalty l1·Σ|w| + (l2/2)·Σw² to a
// parameter's gradient: l1·sign(w) + l2·w (BigDL's L1L2Regularizer; L1 and
// L2 are the cases with one rate zero).
type Regularizer struct {
	L1 float64 `json:"l1"`
	L2 float64 `json:"l2"`
}

// NewRegularizer reads {"l1": a, "l2": b}; nil is no regularizer.
func NewRegularizer(spec map[string]any) (*Regularizer, error) {
	if spec == nil {
		return nil, nil
	}
	a := NewArgs("Regularizer", spec)
	r := &Regularizer{L1: a.Float("l1", 0), L2: a.Float("l2", 0)}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if r.L1 < 0 || r.L2 < 0 || math.IsInf(r.L1, 0) || math.IsInf(r.L2, 0) {
		return nil, fmt.Errorf("a regularizer's rates must be finite and ≥ 0, got l1 %v and l2 %v", r.L1, r.L2)
	}
	return r, nil
}

// Add adds the penalty's gradient at w to g, the L1 term first, as BigDL does.
func (r *Regularizer) Add(w, g []float32) {
	if r.L1 != 0 {
		l1 := float32(r.L1)
		for i, v := range w {
			switch {
			case v > 0:
				g[i] += l1
			case v < 0:
				g[i] -= l1
			}
		}
	}
	if r.L2 != 0 {
		l2 := float32(r.L2)
		for i, v := range w {
			g[i] += l2 * v
		}
	}
}

// regularizedParams is a layer whose parameters of one kind ("w": weights,
// "b": biases, "u": recurrent weights) are not simply the parameters named
// "weight" or "bias" (recurrent layers).
type regularizedParams interface {
	RegularizedParams(kind string) []*Param
}

// SetRegularizer attaches r (nil removes it) to m's parameters of a kind:
// "w" (wRegularizer), "b" (bRegularizer) or "u" (uRegularizer).
func SetRegularizer(m Module, kind string, r *Regularizer) error {
	what := map[string]string{"w": "wRegularizer", "b": "bRegularizer", "u": "uRegularizer"}[kind]
	if what == "" {
		return fmt.Errorf("regularizer kind must be w, b or u, got %q", kind)
	}
	var ps []*Param
	if rp, ok := m.(regularizedParams); ok {
		ps = rp.RegularizedParams(kind)
	} else {
		name := map[string]string{"w": "weight", "b": "bias"}[kind]
		for _, p := range m.Params() {
			if p.Name == name {
				ps = append(ps, p)
			}
		}
	}
	if len(ps) == 0 {
		if r == nil {
			return nil
		}
		return fmt.Errorf("%s: %s has no parameters it applies to", what, m.String())
	}
	for _, p := range ps {
		p.Reg = r
	}
	return nil
}

// AddRegularization adds every regularizer's gradient below m to its
// parameter's gradient (what BigDL's backward does; the training loop
// instead adds them once to the whole batch's gradient).
func AddRegularization(m Module) {
	for _, p := range AllParams(m) {
		if p.Reg != nil && !frozenParam(m, p) {
			p.Reg.Add(p.Value.Data, p.Grad.Data)
		}
	}
}

// frozenParam reports whether p belongs to a frozen module of m.
func frozenParam(m Module, p *Param) bool {
	frozen := false
	Walk(m, func(x Module) {
		for _, q := range x.Params() {
			if q == p && x.Meta().frozen {
				frozen = true
			}
		}
	})
	return frozen
}

// RegRange is a regularizer over the values [Lo, Hi) of a flat parameter
// vector (Flatten's order).
type RegRange struct {
	Lo, Hi int
	Reg    *Regularizer
}

// RegRanges lists where m's regularized, unfrozen parameters lie in the
// vector Flatten makes.
func RegRanges(m Module) []RegRange {
	var out []RegRange
	off := 0
	Walk(m, func(x Module) {
		for _, p := range x.Params() {
			n := p.Value.Len()
			if p.Reg != nil && !x.Meta().frozen {
				out = append(out, RegRange{off, off + n, p.Reg})
			}
			off += n
		}
	})
	return out
}

// regularizerDefs and applyRegularizerDefs carry a module's regularizers in
// its Definition, keyed by parameter index, so they survive save and load
// (a Spark task gets its model as a file).
func regularizerDefs(m Module) map[string]Regularizer {
	var out map[string]Regularizer
	for i, p := range m.Params() {
		if p.Reg != nil {
			if out == nil {
				out = map[string]Regularizer{}
			}
			out[fmt.Sprint(i)] = *p.Reg
		}
	}
	return out
}

func applyRegularizerDefs(m Module, defs map[string]Regularizer) error {
	ps := m.Params()
	for k, r := range defs {
		var i int
		if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(ps) {
			return fmt.Errorf("%s: a regularizer for parameter %q, which it does not have", m.String(), k)
		}
		r := r
		ps[i].Reg = &r
	}
	return nil
}
