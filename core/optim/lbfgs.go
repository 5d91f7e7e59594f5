package optim

import (
	"fmt"
	"math"
)

// LBFGS is limited-memory BFGS as BigDL runs it inside its optimizers: the
// function it is handed returns the mini-batch's loss and gradient, the same
// whatever the point, so each Update takes one step along the two-loop
// direction (the loss then cannot change, which ends BigDL's inner loop) and
// updates the curvature history from the last step and the change of
// gradient between mini-batches. Its dot products span the whole vector, so
// a distributed run gives every task the whole gradient (see wholeVector).
type LBFGS struct {
	MaxIter               int
	MaxEval, TolFun, TolX float64
	NCorrection           int
	LR                    float64
	nIter                 int
	t, hdiag              float64
	d, gOld               []float32
	dirs, stps            [][]float32 // the last steps s and gradient changes y, oldest first
	spareS, spareY        []float32   // scratch for the next pair
	ro, al                []float64
}

func newLBFGS(a interface {
	Float(string, float64) float64
	Int(string, int) int
}) (*LBFGS, error) {
	l := &LBFGS{MaxIter: a.Int("max_iter", 20), MaxEval: a.Float("max_eval", doubleMax), TolFun: a.Float("tolfun", 1e-5),
		TolX: a.Float("tolx", 1e-9), NCorrection: a.Int("ncorrection", 100), LR: a.Float("learningrate", 1), hdiag: 1}
	if l.MaxIter < 1 || l.NCorrection < 1 {
		return nil, fmt.Errorf("LBFGS: arguments max_iter and ncorrection must be positive, got %d and %d", l.MaxIter, l.NCorrection)
	}
	l.t = l.LR
	return l, nil
}

func (l *LBFGS) Class() string { return "LBFGS" }
func (l *LBFGS) Config() map[string]any {
	return map[string]any{"max_iter": l.MaxIter, "max_eval": l.MaxEval, "tolfun": l.TolFun, "tolx": l.TolX,
		"ncorrection": l.NCorrection, "learningrate": l.LR}
}
func (l *LBFGS) LearningRate() float64 { return l.LR }
func (l *LBFGS) wholeVector()          {}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func sumAbs(a []float32) float64 {
	var s float64
	for _, v := range a {
		s += math.Abs(float64(v))
	}
	return s
}

// Update takes one step from x given the mini-batch's gradient g.
func (l *LBFGS) Update(x, g []float32) {
	n := len(x)
	if sumAbs(g) < l.TolFun {
		return // optimal already: BigDL returns before counting an iteration
	}
	if l.d == nil {
		l.d, l.gOld = make([]float32, n), make([]float32, n)
		l.ro, l.al = make([]float64, l.NCorrection), make([]float64, l.NCorrection)
		for i, v := range g {
			l.d[i] = -v
		}
	}
	l.nIter++
	if l.nIter != 1 {
		l.curvature(g)
	}
	copy(l.gOld, g)
	if dot(g, l.d) > -l.TolX {
		return // not a descent direction: BigDL's loop stops without a step
	}
	if l.nIter == 1 {
		l.t = math.Min(1, 1/sumAbs(g)) * l.LR
	} else {
		l.t = l.LR
	}
	t := float32(l.t)
	for i := range x {
		x[i] += t * l.d[i]
	}
}

// curvature records the last step and gradient change, then sets d to the
// two-loop direction -H·g.
func (l *LBFGS) curvature(g []float32) {
	if l.spareS == nil {
		// The history grows to NCorrection pairs; then a dropped pair's
		// buffers serve the next step, so a full history allocates nothing.
		l.spareS, l.spareY = make([]float32, len(g)), make([]float32, len(g))
	}
	s, y := l.spareS, l.spareY
	t := float32(l.t)
	for i := range g {
		y[i] = g[i] - l.gOld[i]
		s[i] = l.d[i] * t
	}
	if ys := dot(y, s); ys > 1e-10 {
		l.spareS, l.spareY = nil, nil
		if len(l.dirs) == l.NCorrection {
			l.spareS, l.spareY = l.dirs[0], l.stps[0]
			copy(l.dirs, l.dirs[1:])
			copy(l.stps, l.stps[1:])
			l.dirs, l.stps = l.dirs[:len(l.dirs)-1], l.stps[:len(l.stps)-1]
		}
		l.dirs, l.stps = append(l.dirs, s), append(l.stps, y)
		l.hdiag = ys / dot(y, y)
	}
	k := len(l.dirs)
	for i := 0; i < k; i++ {
		l.ro[i] = 1 / dot(l.stps[i], l.dirs[i])
	}
	q := l.d // d is rebuilt in place: q, then r
	for i := range q {
		q[i] = -g[i]
	}
	for i := k - 1; i >= 0; i-- {
		l.al[i] = dot(l.dirs[i], q) * l.ro[i]
		a := float32(l.al[i])
		for j, v := range l.stps[i] {
			q[j] -= a * v
		}
	}
	h := float32(l.hdiag)
	for i := range q {
		q[i] *= h
	}
	for i := 0; i < k; i++ {
		be := dot(l.stps[i], q) * l.ro[i]
		c := float32(l.al[i] - be)
		for j, v := range l.dirs[i] {
			q[j] += c * v
		}
	}
}

// wholeVector marks a method whose update needs the whole parameter vector:
// on Spark every task runs it on the whole gradient instead of its shard.
type wholeVector interface{ wholeVector() }

// ExtraState and SetExtraState carry the scalars of LBFGS's state; its
// vectors (d, the last gradient, then the steps and the gradient changes)
// are the buffers of StateOf.
func (l *LBFGS) ExtraState() map[string]any {
	return map[string]any{"n_iter": l.nIter, "t": l.t, "hdiag": l.hdiag, "whole": true}
}

func (l *LBFGS) SetExtraState(m map[string]any) error {
	ni, _ := m["n_iter"].(float64)
	t, ok1 := m["t"].(float64)
	h, ok2 := m["hdiag"].(float64)
	if !ok1 || !ok2 {
		return fmt.Errorf("set_state: LBFGS needs t and hdiag, got %v", m)
	}
	l.nIter, l.t, l.hdiag = int(ni), t, h
	return nil
}

func (l *LBFGS) bufs() [][]float32 {
	if l.d == nil {
		return [][]float32{}
	}
	out := [][]float32{l.d, l.gOld}
	out = append(out, l.dirs...)
	return append(out, l.stps...)
}

func (l *LBFGS) setBufs(b [][]float32) error {
	if len(b) == 0 {
		l.d, l.gOld, l.dirs, l.stps, l.spareS, l.spareY = nil, nil, nil, nil, nil, nil
		return nil
	}
	k := (len(b) - 2) / 2
	if len(b) < 2 || len(b)%2 != 0 || k > l.NCorrection {
		return fmt.Errorf("set_state: LBFGS keeps 2 + 2k buffers (k ≤ %d), got %d", l.NCorrection, len(b))
	}
	l.d, l.gOld = b[0], b[1]
	l.dirs = append([][]float32(nil), b[2:2+k]...)
	l.stps = append([][]float32(nil), b[2+k:]...)
	l.spareS, l.spareY = nil, nil
	l.ro, l.al = make([]float64, l.NCorrection), make([]float64, l.NCorrection)
	return nil
}
