package nn

import (
	"fmt"
	"strings"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Sequential feeds the output of each child to the next.
type Sequential struct {
	Base
	children []Module
	inputs   []*tensor.Tensor // the input each child saw in the last Forward
}

func init() {
	Register("Sequential", func(a *Args) (Module, error) { return NewSequential(), nil })
}

// NewSequential returns an empty container.
func NewSequential() *Sequential { return &Sequential{Base: newBase("Sequential")} }

func (s *Sequential) Children() []Module     { return s.children }
func (s *Sequential) Params() []*Param       { return nil }
func (s *Sequential) Config() map[string]any { return map[string]any{} }

// Add appends a child; a module cannot contain itself.
func (s *Sequential) Add(m Module) error { return addChild(s, &s.children, m) }

func (s *Sequential) takesTables() {}

// addChild appends m to a container's children unless it contains c.
func addChild(c Module, children *[]Module, m Module) error {
	cyclic := false
	Walk(m, func(x Module) {
		if x == c {
			cyclic = true
		}
	})
	if cyclic {
		return fmt.Errorf("%s: cannot add a container to itself", c.String())
	}
	*children = append(*children, m)
	return nil
}

func (s *Sequential) Reset() {
	for _, c := range s.children {
		c.Reset()
	}
}

func (s *Sequential) String() string { return containerString(&s.Base, s.children) }

// containerString is BigDL's description of a container: its class and
// name, then each child on its own line.
func containerString(b0 *Base, children []Module) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s[%s]{", b0.class, b0.name)
	for i, c := range children {
		fmt.Fprintf(&b, "\n  (%d): %s", i+1, strings.ReplaceAll(c.String(), "\n", "\n  "))
	}
	if len(children) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("}")
	return b.String()
}

func (s *Sequential) Forward(x *tensor.Tensor) *tensor.Tensor {
	if len(s.children) == 0 {
		panic(fmt.Errorf("%s is empty: add layers before calling forward", s.String()))
	}
	s.inputs = s.inputs[:0]
	for _, c := range s.children {
		s.inputs = append(s.inputs, x)
		x = Forward(c, x)
	}
	return x
}

func (s *Sequential) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if len(s.inputs) != len(s.children) {
		panic(fmt.Errorf("%s: backward called before forward", s.String()))
	}
	// Below the first trainable child nothing needs a gradient when the
	// caller discards this container's input gradient.
	first := 0
	if s.inputGradUnused {
		for first < len(s.children) && !trainable(s.children[first]) {
			first++
		}
	}
	for i := len(s.children) - 1; i >= first; i-- {
		c := s.children[i]
		c.Meta().inputGradUnused = s.inputGradUnused && i == first
		gy = Backward(c, s.inputs[i], gy)
	}
	if s.inputGradUnused {
		return nil
	}
	return gy
}
