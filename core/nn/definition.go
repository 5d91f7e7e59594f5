package nn

import (
	"encoding/json"
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Definition describes a module and its children, enough to rebuild it
// through the layer registry.
type Definition struct {
	Class    string         `json:"class"`
	Name     string         `json:"name"`
	Config   map[string]any `json:"config"`
	Training bool           `json:"training"`
	Frozen   bool           `json:"frozen,omitempty"`
	Children []Definition   `json:"children,omitempty"`
	// Regularizers by the index of the parameter in Params.
	Regularizers map[string]Regularizer `json:"regularizers,omitempty"`
}

// Describe returns m's definition.
func Describe(m Module) Definition {
	b := m.Meta()
	d := Definition{Class: b.Class(), Name: b.Name(), Config: m.Config(), Training: b.Training(), Frozen: b.Frozen(),
		Regularizers: regularizerDefs(m)}
	if c, ok := m.(Container); ok {
		for _, ch := range c.Children() {
			d.Children = append(d.Children, Describe(ch))
		}
	}
	return d
}

// Build rebuilds a module (with fresh parameters) from its definition.
func Build(d Definition) (Module, error) {
	// Round-trip the config through JSON so it has the types the registry
	// decodes from Python (numbers as float64, lists as []any).
	raw, err := json.Marshal(d.Config)
	if err != nil {
		return nil, err
	}
	var args map[string]any
	if err := json.Unmarshal(raw, &args); err != nil {
		return nil, err
	}
	m, err := New(d.Class, args)
	if err != nil {
		return nil, err
	}
	m.Meta().SetName(d.Name)
	if err := applyRegularizerDefs(m, d.Regularizers); err != nil {
		return nil, err
	}
	for _, cd := range d.Children {
		c, ok := m.(Container)
		if !ok {
			return nil, fmt.Errorf("%s is not a container but the file lists children for it", d.Class)
		}
		child, err := Build(cd)
		if err != nil {
			return nil, err
		}
		if err := c.Add(child); err != nil {
			return nil, err
		}
	}
	SetTraining(m, d.Training)
	if d.Frozen {
		SetFrozen(m, true)
	}
	return m, nil
}

// Clone builds a copy of m that shares m's parameter values but has
// gradients of its own, in one contiguous vector laid out as Flatten lays out
// m's: the replicas that training workers run on their parts of a
// mini-batch. Flatten must not be called on a clone (it would unshare it).
func Clone(m Module) (Module, []float32, error) {
	c, err := Build(Describe(m))
	if err != nil {
		return nil, nil, err
	}
	src, dst := AllParams(m), AllParams(c)
	n := 0
	for _, p := range src {
		n += p.Grad.Len()
	}
	grads := make([]float32, n)
	off := 0
	for i, p := range dst {
		k := src[i].Value.Len()
		p.Value = src[i].Value
		p.Grad = &tensor.Tensor{Shape: src[i].Grad.Shape, Data: grads[off : off+k : off+k]}
		off += k
	}
	// Extra parameters (running statistics) are the replica's own, starting
	// from the original's.
	srcExtra := AllExtraParams(m)
	for i, e := range AllExtraParams(c) {
		copy(e.Data, srcExtra[i].Data)
	}
	return c, grads, nil
}
