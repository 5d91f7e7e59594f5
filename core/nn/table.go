package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// The table helpers below reuse their destination's buffers (tensor.Ensure,
// tensor.EnsureTable), so table layers allocate nothing once warmed up.

// copyInto makes dst a deep copy of src (tensor or table) and returns it.
func copyInto(dst, src *tensor.Tensor) *tensor.Tensor { return like(dst, src, true) }

// zeroLike makes dst zeros shaped like src (a table of zeros for a table).
func zeroLike(dst, src *tensor.Tensor) *tensor.Tensor { return like(dst, src, false) }

// like makes dst shaped like src, holding src's values or zeros.
func like(dst, src *tensor.Tensor, values bool) *tensor.Tensor {
	if src.IsTable() {
		dst = tableLike(dst, len(src.Table))
		for i, e := range src.Table {
			dst.Table[i] = like(dst.Table[i], e, values)
		}
		return dst
	}
	dst = tensor.Ensure(dst, src.Shape...)
	if values {
		copy(dst.Data, src.Data)
	} else {
		clear(dst.Data)
	}
	return dst
}

// tableLike is tensor.EnsureTable, keeping dst's element buffers for reuse
// even when dst was last used as a tensor.
func tableLike(dst *tensor.Tensor, n int) *tensor.Tensor {
	if dst != nil && !dst.IsTable() {
		dst = nil
	}
	return tensor.EnsureTable(dst, n)
}

// addInto adds src to dst, which has src's structure and shapes.
func addInto(m Module, dst, src *tensor.Tensor) {
	if dst.IsTable() != src.IsTable() || dst.IsTable() && len(dst.Table) != len(src.Table) ||
		!dst.IsTable() && dst.Len() != src.Len() {
		panic(fmt.Errorf("%s: the branches' input gradients differ: %s and %s", m.String(), dst.Describe(), src.Describe()))
	}
	if dst.IsTable() {
		for i := range dst.Table {
			addInto(m, dst.Table[i], src.Table[i])
		}
		return
	}
	for i, v := range src.Data {
		dst.Data[i] += v
	}
}

// needTable panics unless x is a table of n elements (any number when n < 0).
func needTable(m Module, what string, x *tensor.Tensor, n int) {
	if !x.IsTable() {
		panic(fmt.Errorf("%s: expected %s to be a table, got a tensor of shape %s", m.String(), what, tensor.ShapeString(x.Shape)))
	}
	if n >= 0 && len(x.Table) != n {
		panic(fmt.Errorf("%s: expected %s to be a table of %d elements, got %d: %s", m.String(), what, n, len(x.Table), x.Describe()))
	}
}

// needTensors panics unless x is a non-empty table of tensors (no nesting).
func needTensors(m Module, x *tensor.Tensor, n int) {
	needTable(m, "the input", x, n)
	if len(x.Table) == 0 {
		panic(fmt.Errorf("%s: expected a table of tensors, got an empty table", m.String()))
	}
	for _, e := range x.Table {
		if e.IsTable() {
			panic(fmt.Errorf("%s: expected a table of tensors, got a nested table %s", m.String(), x.Describe()))
		}
	}
}

// needTensor panics unless x is a tensor.
func needTensor(m Module, what string, x *tensor.Tensor) {
	if x.IsTable() {
		panic(fmt.Errorf("%s: expected %s to be a tensor, got a table %s", m.String(), what, x.Describe()))
	}
}

// container is the part of ConcatTable, ParallelTable and Concat that holds
// children.
type container struct {
	Base
	children []Module
}

func (c *container) Children() []Module     { return c.children }
func (c *container) Params() []*Param       { return nil }
func (c *container) Config() map[string]any { return map[string]any{} }
func (c *container) takesTables()           {}
func (c *container) Reset() {
	for _, ch := range c.children {
		ch.Reset()
	}
}
func (c *container) String() string { return containerString(&c.Base, c.children) }

func (c *container) needChildren(self Module) {
	if len(c.children) == 0 {
		panic(fmt.Errorf("%s is empty: add layers before calling forward", self.String()))
	}
}

// ConcatTable gives its input to every child; its output is the table of
// their outputs.
type ConcatTable struct {
	container
	output, gradIn *tensor.Tensor
}

// ParallelTable gives element i of its input table to child i; its output is
// the table of their outputs.
type ParallelTable struct {
	container
	output, gradIn *tensor.Tensor
}

func init() {
	Register("ConcatTable", func(a *Args) (Module, error) {
		return &ConcatTable{container: container{Base: newBase("ConcatTable")}}, nil
	})
	Register("ParallelTable", func(a *Args) (Module, error) {
		return &ParallelTable{container: container{Base: newBase("ParallelTable")}}, nil
	})
}

func (c *ConcatTable) Add(m Module) error { return addChild(c, &c.children, m) }

func (c *ConcatTable) Forward(x *tensor.Tensor) *tensor.Tensor {
	c.needChildren(c)
	c.output = tensor.EnsureTable(c.output, len(c.children))
	for i, ch := range c.children {
		c.output.Table[i] = Forward(ch, x)
	}
	return c.output
}

func (c *ConcatTable) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	needTable(c, "the output gradient", gy, len(c.children))
	return c.branchBackward(c, x, gy, &c.gradIn)
}

// branchBackward is the backward of a container whose children all read x:
// child i gets gradient gys.Table[i], and their input gradients sum into
// *gradIn.
func (c *container) branchBackward(self Module, x, gys *tensor.Tensor, gradIn **tensor.Tensor) *tensor.Tensor {
	for i, ch := range c.children {
		ch.Meta().inputGradUnused = c.inputGradUnused
		g := Backward(ch, x, gys.Table[i])
		switch {
		case c.inputGradUnused:
		case i == 0:
			*gradIn = copyInto(*gradIn, g)
		default:
			addInto(self, *gradIn, g)
		}
	}
	if c.inputGradUnused {
		return nil
	}
	return *gradIn
}

func (p *ParallelTable) Add(m Module) error { return addChild(p, &p.children, m) }

func (p *ParallelTable) Forward(x *tensor.Tensor) *tensor.Tensor {
	p.needChildren(p)
	needTable(p, "the input", x, len(p.children))
	p.output = tensor.EnsureTable(p.output, len(p.children))
	for i, ch := range p.children {
		p.output.Table[i] = Forward(ch, x.Table[i])
	}
	return p.output
}

func (p *ParallelTable) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	needTable(p, "the input", x, len(p.children))
	needTable(p, "the output gradient", gy, len(p.children))
	p.gradIn = tensor.EnsureTable(p.gradIn, len(p.children))
	for i, ch := range p.children {
		ch.Meta().inputGradUnused = p.inputGradUnused
		p.gradIn.Table[i] = Backward(ch, x.Table[i], gy.Table[i])
	}
	if p.inputGradUnused {
		return nil
	}
	return p.gradIn
}

// SelectTable outputs element Index (1-based; negative counts from the end)
// of its input table.
type SelectTable struct {
	Base
	Index  int
	gradIn *tensor.Tensor
}

// NarrowTable outputs Length elements of its input table from Offset
// (1-based); a negative Length counts from the end, -1 meaning the rest.
type NarrowTable struct {
	Base
	Offset, Length int
	output, gradIn *tensor.Tensor
}

// FlattenTable outputs the tensors of a nested table as one flat table.
type FlattenTable struct {
	Base
	output, gradIn *tensor.Tensor
	leaves         []*tensor.Tensor
}

func init() {
	Register("SelectTable", func(a *Args) (Module, error) {
		i := a.Int("index", 0)
		if i == 0 {
			return nil, fmt.Errorf("SelectTable: argument index must be a non-zero integer (1-based, negative from the end)")
		}
		return &SelectTable{Base: newBase("SelectTable"), Index: i}, nil
	})
	Register("NarrowTable", func(a *Args) (Module, error) {
		off, n := a.PositiveInt("offset"), a.Int("length", 1)
		if n == 0 {
			return nil, fmt.Errorf("NarrowTable: argument length must be non-zero, got 0")
		}
		return &NarrowTable{Base: newBase("NarrowTable"), Offset: off, Length: n}, nil
	})
	Register("FlattenTable", func(a *Args) (Module, error) {
		return &FlattenTable{Base: newBase("FlattenTable")}, nil
	})
}

func (s *SelectTable) Params() []*Param       { return nil }
func (s *SelectTable) Reset()                 {}
func (s *SelectTable) takesTables()           {}
func (s *SelectTable) Config() map[string]any { return map[string]any{"index": s.Index} }
func (s *SelectTable) String() string         { return fmt.Sprintf("SelectTable[%s](%d)", s.name, s.Index) }

func (s *SelectTable) index(x *tensor.Tensor) int {
	needTable(s, "the input", x, -1)
	i := s.Index
	if i < 0 {
		i += len(x.Table) + 1
	}
	if i < 1 || i > len(x.Table) {
		panic(fmt.Errorf("%s: index %d is out of range for a table of %d elements %s", s.String(), s.Index, len(x.Table), x.Describe()))
	}
	return i - 1
}

func (s *SelectTable) Forward(x *tensor.Tensor) *tensor.Tensor { return x.Table[s.index(x)] }

func (s *SelectTable) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	i := s.index(x)
	if gy.IsTable() != x.Table[i].IsTable() {
		panic(fmt.Errorf("%s: the output gradient %s does not match the selected element %s", s.String(), gy.Describe(), x.Table[i].Describe()))
	}
	s.gradIn = zeroLike(s.gradIn, x)
	s.gradIn.Table[i] = copyInto(s.gradIn.Table[i], gy)
	return s.gradIn
}

func (n *NarrowTable) Params() []*Param { return nil }
func (n *NarrowTable) Reset()           {}
func (n *NarrowTable) takesTables()     {}
func (n *NarrowTable) Config() map[string]any {
	return map[string]any{"offset": n.Offset, "length": n.Length}
}
func (n *NarrowTable) String() string {
	return fmt.Sprintf("NarrowTable[%s](%d, %d)", n.name, n.Offset, n.Length)
}

func (n *NarrowTable) span(x *tensor.Tensor) (lo, hi int) {
	needTable(n, "the input", x, -1)
	length := n.Length
	if length < 0 {
		length += len(x.Table) - n.Offset + 2
	}
	lo, hi = n.Offset-1, n.Offset-1+length
	if length < 1 || hi > len(x.Table) {
		panic(fmt.Errorf("%s: offset %d and length %d do not fit a table of %d elements %s",
			n.String(), n.Offset, n.Length, len(x.Table), x.Describe()))
	}
	return lo, hi
}

func (n *NarrowTable) Forward(x *tensor.Tensor) *tensor.Tensor {
	lo, hi := n.span(x)
	n.output = tensor.EnsureTable(n.output, hi-lo)
	copy(n.output.Table, x.Table[lo:hi])
	return n.output
}

func (n *NarrowTable) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	lo, hi := n.span(x)
	needTable(n, "the output gradient", gy, hi-lo)
	n.gradIn = zeroLike(n.gradIn, x)
	for i := lo; i < hi; i++ {
		n.gradIn.Table[i] = copyInto(n.gradIn.Table[i], gy.Table[i-lo])
	}
	return n.gradIn
}

func (f *FlattenTable) Params() []*Param       { return nil }
func (f *FlattenTable) Reset()                 {}
func (f *FlattenTable) takesTables()           {}
func (f *FlattenTable) Config() map[string]any { return map[string]any{} }
func (f *FlattenTable) String() string         { return fmt.Sprintf("FlattenTable[%s]", f.name) }

func (f *FlattenTable) Forward(x *tensor.Tensor) *tensor.Tensor {
	needTable(f, "the input", x, -1)
	f.leaves = x.AppendLeaves(f.leaves[:0])
	f.output = tensor.EnsureTable(f.output, len(f.leaves))
	copy(f.output.Table, f.leaves)
	return f.output
}

func (f *FlattenTable) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	needTable(f, "the input", x, -1)
	f.gradIn = zeroLike(f.gradIn, x)
	f.leaves = f.gradIn.AppendLeaves(f.leaves[:0])
	needTable(f, "the output gradient", gy, len(f.leaves))
	for i, l := range f.leaves {
		if gy.Table[i].IsTable() || gy.Table[i].Len() != l.Len() {
			panic(fmt.Errorf("%s: output gradient %s does not match the input %s", f.String(), gy.Describe(), x.Describe()))
		}
		copy(l.Data, gy.Table[i].Data)
	}
	return f.gradIn
}
