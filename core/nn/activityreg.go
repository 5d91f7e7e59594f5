package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// ActivityRegularization passes its input through and penalises it: its
// backward adds l1·sign(x) + 2·l2·x, the gradient of l1·Σ|x| + l2·Σx², to
// the gradient of its output (BigDL's layer of that name).
type ActivityRegularization struct {
	Base
	L1, L2 float64
	output *tensor.Tensor
	gradIn *tensor.Tensor
}

func init() {
	Register("ActivityRegularization", func(a *Args) (Module, error) {
		l := &ActivityRegularization{Base: newBase("ActivityRegularization"), L1: a.Float("l1", 0), L2: a.Float("l2", 0)}
		if l.L1 < 0 || l.L2 < 0 {
			return nil, fmt.Errorf("ActivityRegularization: arguments l1 and l2 must be ≥ 0, got %v and %v", l.L1, l.L2)
		}
		return l, nil
	})
}

func (l *ActivityRegularization) Params() []*Param { return nil }
func (l *ActivityRegularization) Reset()           {}
func (l *ActivityRegularization) Config() map[string]any {
	return map[string]any{"l1": l.L1, "l2": l.L2}
}
func (l *ActivityRegularization) String() string {
	return fmt.Sprintf("ActivityRegularization[%s](l1=%v, l2=%v)", l.name, l.L1, l.L2)
}

func (l *ActivityRegularization) Forward(x *tensor.Tensor) *tensor.Tensor {
	l.output = tensor.Ensure(l.output, x.Shape...)
	copy(l.output.Data, x.Data)
	return l.output
}

func (l *ActivityRegularization) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if gy.Len() != x.Len() {
		shapeError(l, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	l.gradIn = tensor.Ensure(l.gradIn, x.Shape...)
	l1, l2 := float32(l.L1), float32(2*l.L2)
	for i, v := range x.Data {
		s := float32(0)
		switch {
		case v > 0:
			s = l1
		case v < 0:
			s = -l1
		}
		l.gradIn.Data[i] = s + l2*v + gy.Data[i]
	}
	return l.gradIn
}
