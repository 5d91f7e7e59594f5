package main

import (
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// panicLayer is a layer for tests only: it acts as Identity until its
// after_calls-th Forward, then fails with a Go runtime panic, so tests can
// prove that panics in a layer (directly, or inside the training goroutine)
// come back to Python as exceptions. Its class name starts with an
// underscore so no BigDL script can reach it by accident.
type panicLayer struct {
	nn.Module
	after, calls int
}

func init() {
	nn.Register("_PanicForTest", func(a *nn.Args) (nn.Module, error) {
		id, err := nn.New("Identity", nil)
		if err != nil {
			return nil, err
		}
		return &panicLayer{Module: id, after: a.Int("after_calls", 0)}, nil
	})
}

func (p *panicLayer) Forward(x *tensor.Tensor) *tensor.Tensor {
	p.calls++
	if p.calls > p.after {
		var boom []int
		_ = boom[p.calls] // index out of range: a runtime.Error, as a real bug would raise
	}
	return p.Module.Forward(x)
}
