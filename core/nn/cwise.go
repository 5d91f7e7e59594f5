package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// cwiseTable combines a table of same-shaped tensors element by element:
// CAddTable, CMulTable, CSubTable, CDivTable, CMaxTable, CMinTable,
// CAveTable.
type cwiseTable struct {
	Base
	op     string // "add", "mul", "sub", "div", "max", "min", "ave"
	arity  int    // required table length; 0: any (at least one)
	config map[string]any
	output *tensor.Tensor
	gradIn *tensor.Tensor
}

func init() {
	for _, c := range []struct {
		class, op string
		arity     int
		inplace   bool
	}{
		{"CAddTable", "add", 0, true}, {"CMulTable", "mul", 0, false}, {"CSubTable", "sub", 2, false},
		{"CDivTable", "div", 2, false}, {"CMaxTable", "max", 0, false}, {"CMinTable", "min", 0, false},
		{"CAveTable", "ave", 0, true},
	} {
		Register(c.class, func(a *Args) (Module, error) {
			config := map[string]any{}
			if c.inplace {
				config["inplace"] = a.Bool("inplace", false) // accepted; outputs never alias inputs
			}
			return &cwiseTable{Base: newBase(c.class), op: c.op, arity: c.arity, config: config}, nil
		})
	}
}

func (c *cwiseTable) Params() []*Param       { return nil }
func (c *cwiseTable) Reset()                 {}
func (c *cwiseTable) takesTables()           {}
func (c *cwiseTable) Config() map[string]any { return c.config }
func (c *cwiseTable) String() string         { return fmt.Sprintf("%s[%s]", c.class, c.name) }

func (c *cwiseTable) check(x *tensor.Tensor) {
	n := -1
	if c.arity > 0 {
		n = c.arity
	}
	needTensors(c, x, n)
	for _, e := range x.Table {
		if !tensor.SameShape(e.Shape, x.Table[0].Shape) {
			panic(fmt.Errorf("%s: expected tensors of one shape, got %s", c.String(), x.Describe()))
		}
	}
}

func (c *cwiseTable) Forward(x *tensor.Tensor) *tensor.Tensor {
	c.check(x)
	first := x.Table[0]
	c.output = tensor.Ensure(c.output, first.Shape...)
	y := c.output.Data
	copy(y, first.Data)
	for _, e := range x.Table[1:] {
		for i, v := range e.Data {
			switch c.op {
			case "add", "ave":
				y[i] += v
			case "mul":
				y[i] *= v
			case "sub":
				y[i] -= v
			case "div":
				y[i] /= v
			case "max":
				y[i] = max(y[i], v)
			case "min":
				y[i] = min(y[i], v)
			}
		}
	}
	if c.op == "ave" {
		inv := 1 / float32(len(x.Table))
		for i := range y {
			y[i] *= inv
		}
	}
	return c.output
}

func (c *cwiseTable) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	c.check(x)
	first := x.Table[0]
	if gy.IsTable() || !tensor.SameShape(gy.Shape, first.Shape) {
		shapeError(c, "a gradient of shape "+tensor.ShapeString(first.Shape), gy.Shape)
	}
	n := len(x.Table)
	c.gradIn = tensor.EnsureTable(c.gradIn, n)
	for k, e := range x.Table {
		c.gradIn.Table[k] = tensor.Ensure(c.gradIn.Table[k], e.Shape...)
		g := c.gradIn.Table[k].Data
		for i, v := range gy.Data {
			switch c.op {
			case "add":
				g[i] = v
			case "ave":
				g[i] = v / float32(n)
			case "sub":
				g[i] = v
				if k == 1 {
					g[i] = -v
				}
			case "div":
				if k == 0 {
					g[i] = v / x.Table[1].Data[i]
				} else {
					d := e.Data[i]
					g[i] = -v * first.Data[i] / (d * d)
				}
			case "mul":
				// The product of the others, not output/x: x may be zero.
				p := v
				for j, o := range x.Table {
					if j != k {
						p *= o.Data[i]
					}
				}
				g[i] = p
			case "max", "min":
				// The first element holding the extreme takes the gradient.
				g[i] = 0
				if e.Data[i] == c.output.Data[i] && c.firstExtreme(x, i) == k {
					g[i] = v
				}
			}
		}
	}
	return c.gradIn
}

func (c *cwiseTable) firstExtreme(x *tensor.Tensor, i int) int {
	for j, o := range x.Table {
		if o.Data[i] == c.output.Data[i] {
			return j
		}
	}
	return -1
}
