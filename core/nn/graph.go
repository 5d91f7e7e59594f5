package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Graph is BigDL's functional Model: modules wired as a directed acyclic
// graph of nodes, run in topological order. A node with one predecessor
// reads that node's output; with several, the table of their outputs, in
// order. The graph's input (a table with several input nodes) feeds its
// input nodes; its output is its output nodes' (a table with several).
//
// Each node keeps its input table and gradient buffers between calls, so a
// step of a trained graph allocates nothing once warmed up.
type Graph struct {
	Base
	nodes   []gnode  // topological order once complete
	mods    []Module // the nodes' modules, in the nodes' order
	prev    [][]int  // predecessors of node i (indices into nodes)
	inputs  []int
	outputs []int
	stopped map[string]bool // names whose input gradient is not propagated
	ready   bool
	needs   []bool // needs[k]: a node above k has parameters to train

	input, output, gradIn *tensor.Tensor
}

type gnode struct {
	m      Module
	next   []int          // successors, with repeats when a successor reads it twice
	in     *tensor.Tensor // the input it read in the last Forward
	table  *tensor.Tensor // its input table, when it has several predecessors
	out    *tensor.Tensor
	grad   *tensor.Tensor // the gradient of its output, summed over successors
	own    *tensor.Tensor // grad's buffer when it is a sum (or zeros), not a successor's
	gradIn *tensor.Tensor
	uses   int  // successors reading it, plus outputs it is
	got    bool // grad holds at least one contribution this Backward
}

// Input is the module of an input node: it passes its input through.
type Input struct{ Base }

func init() {
	Register("Input", func(a *Args) (Module, error) { return &Input{Base: newBase("Input")}, nil })
	Register("Model", func(a *Args) (Module, error) {
		var prev [][]int
		for i, p := range a.List("prev") {
			node := NewArgs("Model", map[string]any{"prev": p})
			prev = append(prev, node.Ints("prev"))
			if node.Err() != nil || prev[i] == nil && p != nil {
				return nil, fmt.Errorf("Model: argument prev must list each node's predecessors, got %v for node %d", p, i)
			}
		}
		var stop []string
		for _, s := range a.List("stop_gradient") {
			name, ok := s.(string)
			if !ok {
				return nil, fmt.Errorf("Model: argument stop_gradient must list layer names, got %v", s)
			}
			stop = append(stop, name)
		}
		inputs, outputs := a.Ints("inputs"), a.Ints("outputs")
		if a.Err() != nil {
			return nil, a.Err()
		}
		return newGraph(prev, inputs, outputs, stop)
	})
}

// newGraph is a graph of len(prev) nodes still waiting for their modules
// (see Add).
func newGraph(prev [][]int, inputs, outputs []int, stop []string) (*Graph, error) {
	if len(inputs) == 0 || len(outputs) == 0 {
		return nil, fmt.Errorf("Model: a graph needs at least one input and one output node")
	}
	for _, i := range append(append([]int{}, inputs...), outputs...) {
		if i < 0 || i >= len(prev) {
			return nil, fmt.Errorf("Model: node %d does not exist (the graph has %d)", i, len(prev))
		}
	}
	g := &Graph{Base: newBase("Model"), prev: prev, inputs: inputs, outputs: outputs, stopped: map[string]bool{}}
	for _, s := range stop {
		g.stopped[s] = true
	}
	return g, nil
}

func (i *Input) Params() []*Param                             { return nil }
func (i *Input) Reset()                                       {}
func (i *Input) takesTables()                                 {}
func (i *Input) Config() map[string]any                       { return map[string]any{} }
func (i *Input) String() string                               { return fmt.Sprintf("Input[%s]", i.name) }
func (i *Input) Forward(x *tensor.Tensor) *tensor.Tensor      { return x }
func (i *Input) Backward(x, gy *tensor.Tensor) *tensor.Tensor { return gy }

func (g *Graph) Params() []*Param   { return nil }
func (g *Graph) takesTables()       {}
func (g *Graph) Children() []Module { return g.mods }
func (g *Graph) Reset() {
	for _, n := range g.nodes {
		n.m.Reset()
	}
}
func (g *Graph) String() string { return containerString(&g.Base, g.Children()) }

func (g *Graph) Config() map[string]any {
	stop := make([]string, 0, len(g.stopped))
	for _, n := range g.nodes {
		if g.stopped[n.m.Meta().name] {
			stop = append(stop, n.m.Meta().name)
		}
	}
	return map[string]any{"prev": g.prev, "inputs": g.inputs, "outputs": g.outputs, "stop_gradient": stop}
}

// Add gives the next node its module; the graph is checked and sorted when
// the last one arrives.
func (g *Graph) Add(m Module) error {
	if g.ready || len(g.nodes) >= len(g.prev) {
		return fmt.Errorf("%s: a graph's nodes are fixed when it is built; build a new Model to change it", g.String())
	}
	for _, n := range g.nodes {
		if n.m == m {
			return fmt.Errorf("%s: layer %s is the element of two nodes; each node needs a layer of its own", g.name, m.Meta().name)
		}
	}
	if err := addChild(g, &g.mods, m); err != nil {
		return err
	}
	g.nodes = append(g.nodes, gnode{m: m})
	if len(g.nodes) == len(g.prev) {
		return g.finish()
	}
	return nil
}

// NewGraph builds a graph of the given node modules, where prev[i] lists
// node i's predecessors and inputs and outputs name the input and output
// nodes, in order.
func NewGraph(mods []Module, prev [][]int, inputs, outputs []int, stop []string) (*Graph, error) {
	if len(mods) != len(prev) {
		return nil, fmt.Errorf("Model: %d layers for %d nodes", len(mods), len(prev))
	}
	g, err := newGraph(prev, append([]int{}, inputs...), append([]int{}, outputs...), stop)
	if err != nil {
		return nil, err
	}
	for _, x := range mods {
		if err := g.Add(x); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *Graph) nodeName(i int) string {
	return fmt.Sprintf("%s (%s)", g.nodes[i].m.Meta().name, g.nodes[i].m.Meta().class)
}

// finish checks the graph and puts its nodes in topological order: every
// output must be reachable from the inputs, every node must lead to an
// output, and names must be unique (stop_gradient and freeze find layers by
// name).
func (g *Graph) finish() error {
	n := len(g.nodes)
	isInput := make([]bool, n)
	for _, i := range g.inputs {
		if len(g.prev[i]) > 0 {
			return fmt.Errorf("Model: input node %s has predecessors; an input node must be where data enters", g.nodeName(i))
		}
		isInput[i] = true
	}
	for i, ps := range g.prev {
		for _, p := range ps {
			if p < 0 || p >= n {
				return fmt.Errorf("Model: node %s reads node %d, which does not exist", g.nodeName(i), p)
			}
		}
		if len(ps) == 0 && !isInput[i] {
			return fmt.Errorf("Model: node %s has no predecessor and is not an input: the outputs cannot be reached from the inputs through it (pass it in inputs, or connect it)", g.nodeName(i))
		}
	}
	// Every node must lead to an output.
	leads := make([]bool, n)
	var back func(i int)
	back = func(i int) {
		if leads[i] {
			return
		}
		leads[i] = true
		for _, p := range g.prev[i] {
			back(p)
		}
	}
	for _, o := range g.outputs {
		back(o)
	}
	for i := range g.nodes {
		if !leads[i] {
			return fmt.Errorf("Model: node %s has no path to an output", g.nodeName(i))
		}
	}
	// Kahn's algorithm; a node left over is on a cycle.
	indeg := make([]int, n)
	next := make([][]int, n)
	for i, ps := range g.prev {
		indeg[i] = len(ps)
		for _, p := range ps {
			next[p] = append(next[p], i)
		}
	}
	order := make([]int, 0, n)
	for i := range g.nodes {
		if indeg[i] == 0 {
			order = append(order, i)
		}
	}
	for k := 0; k < len(order); k++ {
		for _, s := range next[order[k]] {
			if indeg[s]--; indeg[s] == 0 {
				order = append(order, s)
			}
		}
	}
	if len(order) != n {
		for i := range g.nodes {
			if indeg[i] > 0 {
				return fmt.Errorf("Model: node %s is on a cycle", g.nodeName(i))
			}
		}
	}
	names := map[string]bool{}
	var dup error
	Walk(g, func(m Module) {
		if m == Module(g) || dup != nil {
			return
		}
		if names[m.Meta().name] {
			dup = fmt.Errorf("Model: two layers are named %q; names in a graph must be unique", m.Meta().name)
		}
		names[m.Meta().name] = true
	})
	if dup != nil {
		return dup
	}
	for s := range g.stopped {
		if !names[s] {
			return fmt.Errorf("Model: stop_gradient: no layer named %q in the graph", s)
		}
	}
	// Renumber everything in topological order.
	pos := make([]int, n)
	for k, i := range order {
		pos[i] = k
	}
	nodes, prev := make([]gnode, n), make([][]int, n)
	for k, i := range order {
		nodes[k] = g.nodes[i]
		prev[k] = make([]int, 0, len(g.prev[i])) // [] in the model file, not null
		for _, p := range g.prev[i] {
			prev[k] = append(prev[k], pos[p])
		}
	}
	for k := range nodes {
		g.mods[k] = nodes[k].m
		for _, p := range prev[k] {
			nodes[p].next = append(nodes[p].next, k)
			nodes[p].uses++
		}
	}
	for j := range g.inputs {
		g.inputs[j] = pos[g.inputs[j]]
	}
	for j := range g.outputs {
		g.outputs[j] = pos[g.outputs[j]]
		nodes[g.outputs[j]].uses++
	}
	g.nodes, g.prev, g.ready = nodes, prev, true
	return nil
}

// StopGradient stops the input gradient of the named layers: they pass
// none to their predecessors (nor compute it).
func (g *Graph) StopGradient(names []string) error {
	found := map[string]bool{}
	Walk(g, func(m Module) { found[m.Meta().name] = true })
	for _, n := range names {
		if !found[n] {
			return fmt.Errorf("stop_gradient: no layer named %q in %s", n, g.name)
		}
	}
	for _, n := range names {
		g.stopped[n] = true
	}
	return nil
}

func (g *Graph) check() {
	if !g.ready {
		panic(fmt.Errorf("%s: the graph has %d of its %d nodes", g.String(), len(g.nodes), len(g.prev)))
	}
}

func (g *Graph) Forward(x *tensor.Tensor) *tensor.Tensor {
	g.check()
	if len(g.inputs) > 1 {
		if !x.IsTable() || len(x.Table) != len(g.inputs) {
			panic(fmt.Errorf("Model[%s]: expected a table of %d inputs, got %s", g.name, len(g.inputs), x.Describe()))
		}
	}
	for k := range g.nodes {
		n := &g.nodes[k]
		switch ps := g.prev[k]; {
		case len(ps) == 0:
			n.in = x
			if len(g.inputs) > 1 {
				n.in = x.Table[g.inputIndex(k)]
			}
		case len(ps) == 1:
			n.in = g.nodes[ps[0]].out
		default:
			n.table = tensor.EnsureTable(n.table, len(ps))
			for j, p := range ps {
				n.table.Table[j] = g.nodes[p].out
			}
			n.in = n.table
		}
		n.out = Forward(n.m, n.in)
	}
	if len(g.outputs) == 1 {
		return g.nodes[g.outputs[0]].out
	}
	g.output = tensor.EnsureTable(g.output, len(g.outputs))
	for j, o := range g.outputs {
		g.output.Table[j] = g.nodes[o].out
	}
	return g.output
}

func (g *Graph) inputIndex(k int) int {
	for j, i := range g.inputs {
		if i == k {
			return j
		}
	}
	return -1
}

// contribute adds gradient gy to node k's output gradient. A node read
// once takes gy itself: its reader's buffer stays put until its Backward.
func (g *Graph) contribute(k int, gy *tensor.Tensor) {
	n := &g.nodes[k]
	switch {
	case n.got:
		addInto(n.m, n.grad, gy)
	case n.uses == 1:
		n.grad, n.got = gy, true
	default:
		n.own = copyInto(n.own, gy)
		n.grad, n.got = n.own, true
	}
}

func (g *Graph) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	g.check()
	if g.nodes[0].in == nil {
		panic(fmt.Errorf("Model[%s]: backward called before forward", g.name))
	}
	for k := range g.nodes {
		g.nodes[k].got = false
	}
	g.markNeeds()
	if len(g.outputs) == 1 {
		g.contribute(g.outputs[0], gy)
	} else {
		if !gy.IsTable() || len(gy.Table) != len(g.outputs) {
			panic(fmt.Errorf("Model[%s]: expected a gradient table of %d outputs, got %s", g.name, len(g.outputs), gy.Describe()))
		}
		for j, o := range g.outputs {
			g.contribute(o, gy.Table[j])
		}
	}
	for k := len(g.nodes) - 1; k >= 0; k-- {
		n := &g.nodes[k]
		if !n.got { // every successor stopped its gradient
			continue
		}
		stop := g.stopped[n.m.Meta().name]
		// An input node's gradient is the graph's, which only the caller
		// may not need; another node's is needed when something above it
		// trains.
		unused := stop || g.inputGradUnused && !g.needs[k]
		if len(g.prev[k]) == 0 {
			unused = g.inputGradUnused
		}
		n.m.Meta().inputGradUnused = unused
		n.gradIn = Backward(n.m, n.in, n.grad)
		if stop || n.gradIn == nil {
			continue
		}
		switch ps := g.prev[k]; {
		case len(ps) == 1:
			g.contribute(ps[0], n.gradIn)
		case len(ps) > 1:
			if !n.gradIn.IsTable() || len(n.gradIn.Table) != len(ps) {
				panic(fmt.Errorf("Model[%s]: layer %s returned input gradient %s for a table of %d inputs", g.name, n.m.Meta().name, n.gradIn.Describe(), len(ps)))
			}
			for j, p := range ps {
				g.contribute(p, n.gradIn.Table[j])
			}
		}
	}
	if g.inputGradUnused {
		return nil
	}
	if len(g.inputs) == 1 {
		return g.inputGrad(g.inputs[0])
	}
	g.gradIn = tensor.EnsureTable(g.gradIn, len(g.inputs))
	for j, i := range g.inputs {
		g.gradIn.Table[j] = g.inputGrad(i)
	}
	return g.gradIn
}

// inputGrad is input node i's gradient: zeros when nothing reached it.
func (g *Graph) inputGrad(i int) *tensor.Tensor {
	n := &g.nodes[i]
	if !n.got {
		n.own = zeroLike(n.own, n.in)
		n.grad = n.own
	}
	return n.grad
}

// markNeeds sets needs[k] for every node: whether a node above it (a
// predecessor, recursively) has parameters to train.
func (g *Graph) markNeeds() {
	if cap(g.needs) < len(g.nodes) {
		g.needs = make([]bool, len(g.nodes))
	}
	g.needs = g.needs[:len(g.nodes)]
	for k := range g.nodes {
		g.needs[k] = false
		for _, p := range g.prev[k] {
			g.needs[k] = g.needs[k] || g.needs[p] || trainable(g.nodes[p].m)
		}
	}
}

// NodeNames lists the node layers' names in topological order.
func (g *Graph) NodeNames() []string {
	out := make([]string, len(g.nodes))
	for i, n := range g.nodes {
		out[i] = n.m.Meta().name
	}
	return out
}
