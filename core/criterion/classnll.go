package criterion

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// ClassNLL is BigDL's ClassNLLCriterion: the negative log-likelihood of
// 1-based class targets given log-probabilities (or probabilities, with
// LogProbAsInput false), optionally weighted per class.
type ClassNLL struct {
	Weights        []float32 // nil: every class weighs 1
	SizeAverage    bool
	LogProbAsInput bool
	grad           *tensor.Tensor
}

func init() {
	register("ClassNLLCriterion", func(a *nn.Args) (Criterion, error) {
		return &ClassNLL{Weights: floats32(a.Floats("weights")), SizeAverage: a.Bool("size_average", true),
			LogProbAsInput: a.Bool("logProbAsInput", true)}, nil
	})
}

func floats32(v []float64) []float32 {
	if v == nil {
		return nil
	}
	out := make([]float32, len(v))
	for i, f := range v {
		out[i] = float32(f)
	}
	return out
}

func (c *ClassNLL) Class() string { return "ClassNLLCriterion" }
func (c *ClassNLL) Config() map[string]any {
	return map[string]any{"weights": c.Weights, "size_average": c.SizeAverage, "logProbAsInput": c.LogProbAsInput}
}

// probFloor keeps log(p) finite when probabilities are given.
const probFloor = 1e-8

// target returns the 0-based class of record i, panicking with a message
// that says labels are 1-based when it is out of range.
func (c *ClassNLL) target(y *tensor.Tensor, i, classes int) int {
	v := y.Data[i]
	t := int(v)
	if float32(t) != v || t < 1 || t > classes {
		panic(fmt.Errorf("ClassNLLCriterion: target %v of record %d is not a class index: labels are 1-based, "+
			"expected an integer in [1, %d]", v, i+1, classes))
	}
	return t - 1
}

func (c *ClassNLL) shape(x, y *tensor.Tensor) (n, classes int) {
	n, classes = rows(x)
	if y.Len() != n {
		panic(fmt.Errorf("ClassNLLCriterion: %d targets for %d records (output shape %s, target shape %s)",
			y.Len(), n, tensor.ShapeString(x.Shape), tensor.ShapeString(y.Shape)))
	}
	if c.Weights != nil && len(c.Weights) != classes {
		panic(fmt.Errorf("ClassNLLCriterion: %d class weights for %d classes", len(c.Weights), classes))
	}
	return n, classes
}

func (c *ClassNLL) weight(t int) float32 {
	if c.Weights == nil {
		return 1
	}
	return c.Weights[t]
}

func (c *ClassNLL) logProb(x float32) float64 {
	if c.LogProbAsInput {
		return float64(x)
	}
	return math.Log(math.Max(float64(x), probFloor))
}

// CheckTargets refuses labels outside [1, outputWidth] before training.
func (c *ClassNLL) CheckTargets(y *tensor.Tensor, classes int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = r.(error)
		}
	}()
	for i := range y.Data {
		c.target(y, i, classes)
	}
	return nil
}

func (c *ClassNLL) Norm(x, y *tensor.Tensor) (float64, bool) {
	n, classes := c.shape(x, y)
	var norm float64
	for i := 0; i < n; i++ {
		norm += float64(c.weight(c.target(y, i, classes)))
	}
	return norm, c.SizeAverage
}

func (c *ClassNLL) Forward(x, y *tensor.Tensor) float64 {
	n, classes := c.shape(x, y)
	var loss, norm float64
	for i := 0; i < n; i++ {
		t := c.target(y, i, classes)
		w := float64(c.weight(t))
		loss -= w * c.logProb(x.Data[i*classes+t])
		norm += w
	}
	if c.SizeAverage && norm > 0 {
		loss /= norm
	}
	return loss
}

func (c *ClassNLL) SumRecordLosses(x, y *tensor.Tensor) (float64, int) {
	n, classes := c.shape(x, y)
	var sum float64
	for i := 0; i < n; i++ {
		t := c.target(y, i, classes)
		l := -c.logProb(x.Data[i*classes+t])
		if !c.SizeAverage {
			l *= float64(c.weight(t)) // a batch of one divides the weight out when averaging
		}
		sum += l
	}
	return sum, n
}

func (c *ClassNLL) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	n, classes := c.shape(x, y)
	c.grad = tensor.Ensure(c.grad, x.Shape...)
	c.grad.Zero()
	var norm float64
	for i := 0; i < n; i++ {
		norm += float64(c.weight(c.target(y, i, classes)))
	}
	if !c.SizeAverage || norm == 0 {
		norm = 1
	}
	for i := 0; i < n; i++ {
		t := c.target(y, i, classes)
		g := -float64(c.weight(t)) / norm
		if !c.LogProbAsInput {
			g /= math.Max(float64(x.Data[i*classes+t]), probFloor)
		}
		c.grad.Data[i*classes+t] = float32(g)
	}
	return c.grad
}

// CrossEntropy is LogSoftMax followed by ClassNLL, on raw scores.
type CrossEntropy struct {
	logSoftMax nn.Module
	nll        *ClassNLL
}

func init() {
	register("CrossEntropyCriterion", func(a *nn.Args) (Criterion, error) {
		return &CrossEntropy{logSoftMax: nn.NewLogSoftMax(),
			nll: &ClassNLL{Weights: floats32(a.Floats("weights")), SizeAverage: a.Bool("size_average", true), LogProbAsInput: true}}, nil
	})
}

func (c *CrossEntropy) Class() string { return "CrossEntropyCriterion" }
func (c *CrossEntropy) Config() map[string]any {
	return map[string]any{"weights": c.nll.Weights, "size_average": c.nll.SizeAverage}
}
func (c *CrossEntropy) CheckTargets(y *tensor.Tensor, classes int) error {
	return c.nll.CheckTargets(y, classes)
}
func (c *CrossEntropy) Norm(x, y *tensor.Tensor) (float64, bool) { return c.nll.Norm(x, y) }
func (c *CrossEntropy) Forward(x, y *tensor.Tensor) float64 {
	return c.nll.Forward(c.logSoftMax.Forward(x), y)
}
func (c *CrossEntropy) SumRecordLosses(x, y *tensor.Tensor) (float64, int) {
	return c.nll.SumRecordLosses(c.logSoftMax.Forward(x), y)
}
func (c *CrossEntropy) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	lp := c.logSoftMax.Forward(x)
	return c.logSoftMax.Backward(x, c.nll.Backward(lp, y))
}
