package optim

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bigdl-go/bigdl-go/core/nn"
)

// PerModule updates each named submodule's parameters with its own method
// (BigDL's optim_method given as {submodule name: OptimMethod}). A
// submodule's parameters are one contiguous range of the flat vector, so
// each method updates its range. Every parameter must fall under exactly
// one named submodule.
type PerModule struct {
	names   []string
	parts   []part
	n       int          // the length of the vector (or shard) Update gets
	pending *MethodState // a shard's state, set before shard cut the parts to it
}

type part struct {
	lo, hi int // the range in the vector Update gets
	m      Method
}

// NewPerModule splits model's parameters between the methods by submodule name.
func NewPerModule(model nn.Module, methods map[string]Method) (*PerModule, error) {
	names := make([]string, 0, len(methods))
	for n := range methods {
		names = append(names, n)
	}
	sort.Strings(names)
	present := map[string]bool{}
	nn.Walk(model, func(m nn.Module) { present[m.Meta().Name()] = true })
	for _, n := range names {
		if !present[n] {
			return nil, fmt.Errorf("optim_method: the model has no submodule named %q", n)
		}
	}
	ranges := map[string][2]int{}
	off := 0
	var walk func(m nn.Module, under string) error
	walk = func(m nn.Module, under string) error {
		name := m.Meta().Name()
		if _, named := methods[name]; named {
			if under != "" {
				return fmt.Errorf("optim_method: submodule %q lies inside %q; give each parameter one method", name, under)
			}
			if _, dup := ranges[name]; dup {
				return fmt.Errorf("optim_method: the model has two submodules named %q", name)
			}
			under = name
			ranges[name] = [2]int{off, off}
		}
		for _, p := range m.Params() {
			if under == "" {
				return fmt.Errorf("optim_method: the parameters of %s fall under no submodule named in the dict (%s)",
					m.String(), strings.Join(names, ", "))
			}
			off += p.Value.Len()
		}
		if c, ok := m.(nn.Container); ok {
			for _, ch := range c.Children() {
				if err := walk(ch, under); err != nil {
					return err
				}
			}
		}
		if under != "" && name == under {
			r := ranges[name]
			ranges[name] = [2]int{r[0], off}
		}
		return nil
	}
	if err := walk(model, ""); err != nil {
		return nil, err
	}
	p := &PerModule{}
	for _, n := range names {
		r := ranges[n]
		if _, whole := methods[n].(wholeVector); whole {
			return nil, fmt.Errorf("optim_method: %s for %q: LBFGS cannot update part of a model", methods[n].Class(), n)
		}
		p.names = append(p.names, n)
		p.parts = append(p.parts, part{r[0], r[1], methods[n]})
	}
	sort.Sort((*byStart)(p))
	p.n = off
	return p, nil
}

type byStart PerModule

func (b *byStart) Len() int           { return len(b.parts) }
func (b *byStart) Less(i, j int) bool { return b.parts[i].lo < b.parts[j].lo }
func (b *byStart) Swap(i, j int) {
	b.parts[i], b.parts[j] = b.parts[j], b.parts[i]
	b.names[i], b.names[j] = b.names[j], b.names[i]
}

func (p *PerModule) Class() string { return "PerModule" }
func (p *PerModule) Config() map[string]any {
	out := map[string]any{}
	for i, n := range p.names {
		out[n] = map[string]any{"class": p.parts[i].m.Class(), "args": p.parts[i].m.Config()}
	}
	return out
}

// LearningRate is the first submodule's method's.
func (p *PerModule) LearningRate() float64 { return p.parts[0].m.LearningRate() }

// Update steps every method, also one whose range a distributed task's
// shard does not reach, so step counts and schedules advance alike on
// every task.
func (p *PerModule) Update(x, g []float32) {
	for _, q := range p.parts {
		q.m.Update(x[q.lo:q.hi], g[q.lo:q.hi])
	}
}

func (p *PerModule) observe(s State) {
	for _, q := range p.parts {
		if o, ok := q.m.(observer); ok {
			o.observe(s)
		}
	}
}

func (p *PerModule) needsLoss() bool {
	for _, q := range p.parts {
		if o, ok := q.m.(observer); ok && o.needsLoss() {
			return true
		}
	}
	return false
}

// shard narrows the parts to the shard [lo, hi) of the vector a
// distributed task updates, rebased to it.
func (p *PerModule) shard(lo, hi, n int) error {
	for i := range p.parts {
		q := &p.parts[i]
		a, b := max(q.lo, lo), min(q.hi, hi)
		if a > b {
			a, b = lo, lo
		}
		if err := shardMethod(q.m, a-q.lo, b-q.lo, q.hi-q.lo); err != nil {
			return err
		}
		q.lo, q.hi = a-lo, b-lo
	}
	p.n = hi - lo
	if s := p.pending; s != nil {
		p.pending = nil
		return p.setState(*s)
	}
	return nil
}

// bufferCount is how many buffers m keeps once it has stepped.
func bufferCount(m Method) int {
	switch m := m.(type) {
	case *SGD:
		if m.Momentum > 0 {
			return 1
		}
		return 0
	case *Adam:
		return 2
	case *Adagrad, *RMSprop:
		return 1
	case buffered:
		_, ptrs := m.state()
		return len(ptrs)
	}
	return 0
}

// state lays the parts' buffers out as one vector per buffer index over the
// whole range (zeros where a part keeps fewer), so a distributed run
// shards and joins them as it does a single method's.
func (p *PerModule) state() MethodState {
	n, k, t := p.n, 0, 0
	for i, q := range p.parts {
		s := StateOf(q.m)
		k = max(k, len(s.Bufs))
		if i == 0 {
			t = s.T
		}
	}
	bufs := make([][]float32, k)
	for j := range bufs {
		bufs[j] = make([]float32, n)
		for _, q := range p.parts {
			if s := StateOf(q.m); j < len(s.Bufs) {
				copy(bufs[j][q.lo:q.hi], s.Bufs[j])
			}
		}
	}
	return MethodState{T: t, Bufs: bufs}
}

func (p *PerModule) setState(s MethodState) error {
	if len(s.Bufs) > 0 && len(s.Bufs[0]) != p.n {
		// A distributed task's shard of the state: it fits the parts once
		// shard has cut them to the task's shard.
		p.pending = &s
		return nil
	}
	for _, q := range p.parts {
		sub := MethodState{T: s.T, Bufs: [][]float32{}}
		if len(s.Bufs) > 0 {
			for j := 0; j < bufferCount(q.m); j++ {
				if j >= len(s.Bufs) || len(s.Bufs[j]) < q.hi {
					return fmt.Errorf("set_state: the per-submodule methods' buffers do not fit them")
				}
				sub.Bufs = append(sub.Bufs, s.Bufs[j][q.lo:q.hi])
			}
		}
		if err := SetState(q.m, sub); err != nil {
			return err
		}
	}
	return nil
}

// ExtraState and SetExtraState carry each part's extra state (schedules).
func (p *PerModule) ExtraState() map[string]any {
	parts := make([]any, len(p.parts))
	for i, q := range p.parts {
		if x, ok := q.m.(ExtraStater); ok {
			parts[i] = x.ExtraState()
		}
	}
	return map[string]any{"parts": parts}
}

func (p *PerModule) SetExtraState(m map[string]any) error {
	parts, _ := m["parts"].([]any)
	if len(parts) != len(p.parts) {
		return fmt.Errorf("set_state: %d per-submodule states for %d methods", len(parts), len(p.parts))
	}
	for i, q := range p.parts {
		e, _ := parts[i].(map[string]any)
		if x, ok := q.m.(ExtraStater); ok && e != nil {
			if err := x.SetExtraState(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *PerModule) needsScore() bool {
	for _, q := range p.parts {
		if n, ok := q.m.(interface{ needsScore() bool }); ok && n.needsScore() {
			return true
		}
	}
	return false
}
