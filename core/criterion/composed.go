package criterion

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// SoftmaxWithCriterion, L1HingeEmbeddingCriterion and TransformerCriterion:
// criteria that softmax, compare a pair, or wrap another criterion.

func init() {
	register("SoftmaxWithCriterion", func(a *nn.Args) (Criterion, error) {
		mode := a.String("normalize_mode", "VALID")
		switch mode {
		case "FULL", "VALID", "BATCH_SIZE", "NONE":
		default:
			return nil, fmt.Errorf("SoftmaxWithCriterion: argument normalize_mode must be FULL, VALID, BATCH_SIZE or NONE, got %q", mode)
		}
		s := &SoftmaxWith{Mode: mode}
		if a.Has("ignore_label") {
			l := a.Int("ignore_label", 0)
			s.Ignore = &l
		}
		return s, nil
	})
	register("L1HingeEmbeddingCriterion", func(a *nn.Args) (Criterion, error) {
		return &L1HingeEmbedding{Margin: a.Float("margin", 1)}, nil
	})
	register("TransformerCriterion", newTransformer)
}

// SoftmaxWith is Caffe's SoftmaxWithLoss as BigDL has it: the softmax over
// dimension 2 of (batch, classes, ...), then -log p of each position's
// 1-based label (positions labelled ignore_label skipped), divided by the
// normaliser normalize_mode names (FULL: all positions, VALID: those not
// ignored, BATCH_SIZE, NONE), at least 1.
type SoftmaxWith struct {
	Ignore *int
	Mode   string
	prob   []float64
	grad   *tensor.Tensor
}

func (s *SoftmaxWith) Class() string { return "SoftmaxWithCriterion" }
func (s *SoftmaxWith) Config() map[string]any {
	m := map[string]any{"normalize_mode": s.Mode}
	if s.Ignore != nil {
		m["ignore_label"] = *s.Ignore
	}
	return m
}

// layout checks x (batch, classes, inner...) against one label per position.
func (s *SoftmaxWith) layout(x, y *tensor.Tensor) (outer, classes, inner int) {
	if x.Dims() < 2 || x.Len() == 0 {
		panic(fmt.Errorf("SoftmaxWithCriterion: expected an output of shape (batch, classes, ...), got %s",
			tensor.ShapeString(x.Shape)))
	}
	outer, classes = x.Shape[0], x.Shape[1]
	inner = x.Len() / (outer * classes)
	if y.Len() != outer*inner {
		panic(fmt.Errorf("SoftmaxWithCriterion: %d targets for an output of shape %s (one label per position: %d), target shape %s",
			y.Len(), tensor.ShapeString(x.Shape), outer*inner, tensor.ShapeString(y.Shape)))
	}
	return outer, classes, inner
}

func (s *SoftmaxWith) ignored(v float32) bool { return s.Ignore != nil && float32(*s.Ignore) == v }

func (s *SoftmaxWith) normaliser(outer, inner, valid int) float64 {
	n := 1.0
	switch s.Mode {
	case "FULL":
		n = float64(outer * inner)
	case "VALID":
		n = float64(valid)
	case "BATCH_SIZE":
		n = float64(outer)
	}
	return max(n, 1)
}

func (s *SoftmaxWith) valid(y *tensor.Tensor) int {
	n := 0
	for _, v := range y.Data {
		if !s.ignored(v) {
			n++
		}
	}
	return n
}

func (s *SoftmaxWith) Norm(x, y *tensor.Tensor) (float64, bool) {
	outer, _, inner := s.layout(x, y)
	return s.normaliser(outer, inner, s.valid(y)), s.Mode != "NONE"
}

// softmax fills s.prob and checks every label that is not ignored.
func (s *SoftmaxWith) softmax(x, y *tensor.Tensor) (outer, classes, inner int) {
	outer, classes, inner = s.layout(x, y)
	if cap(s.prob) < x.Len() {
		s.prob = make([]float64, x.Len())
	}
	s.prob = s.prob[:x.Len()]
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			base := o*classes*inner + j
			m := math.Inf(-1)
			for c := 0; c < classes; c++ {
				m = max(m, float64(x.Data[base+c*inner]))
			}
			var sum float64
			for c := 0; c < classes; c++ {
				e := math.Exp(float64(x.Data[base+c*inner]) - m)
				s.prob[base+c*inner] = e
				sum += e
			}
			for c := 0; c < classes; c++ {
				s.prob[base+c*inner] /= sum
			}
			if v := y.Data[o*inner+j]; !s.ignored(v) {
				classOf(s.Class(), v, o*inner+j, classes)
			}
		}
	}
	return outer, classes, inner
}

func (s *SoftmaxWith) Forward(x, y *tensor.Tensor) float64 {
	outer, classes, inner := s.softmax(x, y)
	var loss float64
	valid := 0
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			v := y.Data[o*inner+j]
			if s.ignored(v) {
				continue
			}
			p := s.prob[o*classes*inner+(int(v)-1)*inner+j]
			loss -= math.Log(max(p, math.SmallestNonzeroFloat64))
			valid++
		}
	}
	return loss / s.normaliser(outer, inner, valid)
}

func (s *SoftmaxWith) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	outer, classes, inner := s.softmax(x, y)
	s.grad = tensor.Ensure(s.grad, x.Shape...)
	valid := s.valid(y)
	k := 1 / s.normaliser(outer, inner, valid)
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			v := y.Data[o*inner+j]
			base := o*classes*inner + j
			for c := 0; c < classes; c++ {
				g := 0.0
				if !s.ignored(v) {
					g = s.prob[base+c*inner]
					if c == int(v)-1 {
						g--
					}
				}
				s.grad.Data[base+c*inner] = float32(k * g)
			}
		}
	}
	return s.grad
}

// L1HingeEmbedding is ‖x1 - x2‖₁ for a target of 1 and max(0, margin -
// ‖x1 - x2‖₁) for -1, for an input table [x1, x2]; over a batch of rows
// (one target each), the sum. BigDL takes one pair and draws a random
// sign for the gradient where x1 and x2 are equal; here it is 0.
type L1HingeEmbedding struct {
	Margin float64
	grad   *tensor.Tensor
}

func (l *L1HingeEmbedding) takesTables() {}
func (l *L1HingeEmbedding) Class() string {
	return "L1HingeEmbeddingCriterion"
}
func (l *L1HingeEmbedding) Config() map[string]any { return map[string]any{"margin": l.Margin} }
func (l *L1HingeEmbedding) Norm(x, y *tensor.Tensor) (float64, bool) {
	return 1, false
}

func (l *L1HingeEmbedding) terms(x, y *tensor.Tensor) (a, b, t *tensor.Tensor, n, w int) {
	a, b = needPair(l.Class(), x)
	n = records(a)
	w = a.Len() / max(n, 1)
	t = firstTensor(y)
	needTensor(l.Class(), "a target of ±1 per row", t, n)
	for i, v := range t.Data {
		if v != 1 && v != -1 {
			panic(fmt.Errorf("%s: target %v of row %d: targets must be 1 or -1", l.Class(), v, i+1))
		}
	}
	return a, b, t, n, w
}

func l1dist(a, b []float32) float64 {
	var d float64
	for j := range a {
		d += math.Abs(float64(a[j]) - float64(b[j]))
	}
	return d
}

func (l *L1HingeEmbedding) Forward(x, y *tensor.Tensor) float64 {
	a, b, t, n, w := l.terms(x, y)
	var s float64
	for i := 0; i < n; i++ {
		d := l1dist(a.Data[i*w:(i+1)*w], b.Data[i*w:(i+1)*w])
		if t.Data[i] > 0 {
			s += d
		} else {
			s += max(0, l.Margin-d)
		}
	}
	return s
}

func (l *L1HingeEmbedding) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	a, b, t, n, w := l.terms(x, y)
	l.grad = pairGrads(l.grad, a, b)
	for i := 0; i < n; i++ {
		ra, rb := a.Data[i*w:(i+1)*w], b.Data[i*w:(i+1)*w]
		k := 1.0
		if t.Data[i] < 0 {
			k = 0
			if l1dist(ra, rb) < l.Margin {
				k = -1
			}
		}
		for j := range ra {
			g := float32(k * sgn(float64(ra[j])-float64(rb[j])))
			l.grad.Table[0].Data[i*w+j], l.grad.Table[1].Data[i*w+j] = g, -g
		}
	}
	return l.grad
}

// Transformer applies criterion to input and target first passed through
// layers (input_transformer, target_transformer; either may be absent); the
// gradient flows back through the input's transformer. The layers are built
// from their definitions and given the weights passed beside them, which
// the criterion never changes.
type Transformer struct {
	inner     Criterion
	inT, tgtT nn.Module
	config    map[string]any
}

func (t *Transformer) takesTables() {}

func newTransformer(a *nn.Args) (Criterion, error) {
	spec := a.Object("criterion")
	if a.Err() != nil {
		return nil, a.Err()
	}
	if spec == nil {
		return nil, fmt.Errorf("TransformerCriterion: argument criterion is required")
	}
	class, _ := spec["class"].(string)
	args, _ := spec["args"].(map[string]any)
	inner, err := New(class, args)
	if err != nil {
		return nil, fmt.Errorf("TransformerCriterion: criterion: %w", err)
	}
	t := &Transformer{inner: inner, config: map[string]any{"criterion": spec}}
	for _, f := range []struct {
		name string
		dst  *nn.Module
	}{{"input_transformer", &t.inT}, {"target_transformer", &t.tgtT}} {
		d := a.Object(f.name)
		if d == nil {
			continue
		}
		raw, _ := json.Marshal(d)
		var def nn.Definition
		if err := json.Unmarshal(raw, &def); err != nil {
			return nil, fmt.Errorf("TransformerCriterion: argument %s must describe a layer: %v", f.name, err)
		}
		m, err := nn.Build(def)
		if err != nil {
			return nil, fmt.Errorf("TransformerCriterion: %s: %w", f.name, err)
		}
		// A definition carries no weights: they come beside it, and stay fixed (a criterion trains nothing).
		ws := a.List(f.name + "_weights")
		if err := setWeights(m, ws); err != nil {
			return nil, fmt.Errorf("TransformerCriterion: %s: %w", f.name, err)
		}
		*f.dst = m
		t.config[f.name] = d
		if ws != nil {
			t.config[f.name+"_weights"] = ws
		}
	}
	return t, nil
}

func (t *Transformer) Class() string          { return "TransformerCriterion" }
func (t *Transformer) Config() map[string]any { return t.config }

func (t *Transformer) transform(x, y *tensor.Tensor) (tx, ty *tensor.Tensor) {
	tx, ty = x, y
	if t.inT != nil {
		tx = nn.Forward(t.inT, x)
	}
	if t.tgtT != nil {
		ty = nn.Forward(t.tgtT, y)
	}
	Check(t.inner, tx, ty)
	return tx, ty
}

func (t *Transformer) Norm(x, y *tensor.Tensor) (float64, bool) {
	return t.inner.Norm(t.transform(x, y))
}
func (t *Transformer) Forward(x, y *tensor.Tensor) float64 { return t.inner.Forward(t.transform(x, y)) }

func (t *Transformer) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	g := t.inner.Backward(t.transform(x, y))
	if t.inT == nil {
		return g
	}
	return nn.Backward(t.inT, x, g)
}

// setWeights fills m's parameters, in AllParams order, from JSON lists of numbers.
func setWeights(m nn.Module, ws []any) error {
	ps := nn.AllParams(m)
	if len(ws) != len(ps) {
		return fmt.Errorf("%s has %d parameter tensors, %d given", m.String(), len(ps), len(ws))
	}
	for i, p := range ps {
		vals, ok := ws[i].([]any)
		if !ok || len(vals) != p.Value.Len() {
			return fmt.Errorf("%s: parameter %d needs %d numbers", m.String(), i+1, p.Value.Len())
		}
		for j, v := range vals {
			f, ok := v.(float64)
			if !ok {
				return fmt.Errorf("%s: parameter %d holds %v, not a number", m.String(), i+1, v)
			}
			p.Value.Data[j] = float32(f)
		}
	}
	return nil
}
