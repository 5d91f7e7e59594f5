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
func (s *Sequential) Add(m Module) error {
	cyclic := false
	Walk(m, func(x Module) {
		if x == Module(s) {
			cyclic = true
		}
	})
	if cyclic {
		return fmt.Errorf("%s: cannot add a container to itself", s.String())
	}
	s.children = append(s.children, m)
	return nil
}

func (s *Sequential) Reset() {
	for _, c := range s.children {
		c.Reset()
	}
}

func (s *Sequential) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Sequential[%s]{", s.name)
	for i, c := range s.children {
		fmt.Fprintf(&b, "\n  (%d): %s", i+1, strings.ReplaceAll(c.String(), "\n", "\n  "))
	}
	if len(s.children) > 0 {
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
		x = c.Forward(x)
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
		gy = c.Backward(s.inputs[i], gy)
	}
	if s.inputGradUnused {
		return nil
	}
	return gy
}
