package criterion

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Criteria of tables: their input (or target) is a table.

// needPair panics unless x is a table of two same-sized tensors.
func needPair(class string, x *tensor.Tensor) (a, b *tensor.Tensor) {
	if !x.IsTable() || len(x.Table) != 2 || x.Table[0].IsTable() || x.Table[1].IsTable() {
		panic(fmt.Errorf("%s: expected an input table of two tensors, got %s", class, x.Describe()))
	}
	a, b = x.Table[0], x.Table[1]
	if a.Len() != b.Len() {
		panic(fmt.Errorf("%s: the input's two tensors must have the same size, got %s", class, x.Describe()))
	}
	return a, b
}

// needTensor panics unless t is a tensor of n values.
func needTensor(class, what string, t *tensor.Tensor, n int) {
	if t.IsTable() || t.Len() != n {
		panic(fmt.Errorf("%s: expected %s of %d values, got %s", class, what, n, t.Describe()))
	}
}

// pairGrads returns a table of two tensors shaped like a and b, reusing g.
func pairGrads(g, a, b *tensor.Tensor) *tensor.Tensor {
	g = tensor.EnsureTable(g, 2)
	g.Table[0] = tensor.Ensure(g.Table[0], a.Shape...)
	g.Table[1] = tensor.Ensure(g.Table[1], b.Shape...)
	return g
}

// records is how many records x holds: its first dimension when it has
// two or more, else one.
func records(x *tensor.Tensor) int {
	if x.Dims() < 2 {
		return 1
	}
	return x.Shape[0]
}

// sub is one criterion of a ParallelCriterion or MultiCriterion and its weight.
type sub struct {
	c      Criterion
	weight float64
}

// composite is ParallelCriterion (element i of the input table against
// element i of the target, or the whole target with RepeatTarget) and
// MultiCriterion (every criterion on the same input and target): the
// weighted sum of its criteria's losses.
type composite struct {
	class        string
	parallel     bool
	repeatTarget bool
	subs         []sub
	grad         *tensor.Tensor
}

func init() {
	build := func(class string, parallel bool) func(a *nn.Args) (Criterion, error) {
		return func(a *nn.Args) (Criterion, error) {
			c := &composite{class: class, parallel: parallel}
			if parallel {
				c.repeatTarget = a.Bool("repeat_target", false)
			}
			if specs := a.List("criteria"); specs != nil {
				for i, s := range specs {
					spec, ok := s.(map[string]any)
					class, _ := spec["class"].(string)
					w, wok := spec["weight"].(float64)
					if !ok || class == "" || !wok {
						return nil, fmt.Errorf("%s: criterion %d must be {class, args, weight}", c.class, i+1)
					}
					args, _ := spec["args"].(map[string]any)
					sc, err := New(class, args)
					if err != nil {
						return nil, fmt.Errorf("%s: criterion %d: %w", c.class, i+1, err)
					}
					c.subs = append(c.subs, sub{sc, w})
				}
			}
			return c, nil
		}
	}
	register("ParallelCriterion", build("ParallelCriterion", true))
	register("MultiCriterion", build("MultiCriterion", false))
}

// Add appends criterion s with weight w.
func (c *composite) Add(s Criterion, w float64) error {
	if math.IsNaN(w) || math.IsInf(w, 0) {
		return fmt.Errorf("%s.add: weight must be a finite number, got %v", c.class, w)
	}
	c.subs = append(c.subs, sub{s, w})
	return nil
}

// Adder is a criterion made of criteria (ParallelCriterion, MultiCriterion).
type Adder interface {
	Add(c Criterion, weight float64) error
}

func (c *composite) Class() string { return c.class }
func (c *composite) Config() map[string]any {
	specs := make([]any, len(c.subs))
	for i, s := range c.subs {
		// Through JSON, so nested configs have the types a decoder gives.
		raw, _ := json.Marshal(s.c.Config())
		var args map[string]any
		json.Unmarshal(raw, &args)
		specs[i] = map[string]any{"class": s.c.Class(), "args": args, "weight": s.weight}
	}
	cfg := map[string]any{"criteria": specs}
	if c.parallel {
		cfg["repeat_target"] = c.repeatTarget
	}
	return cfg
}

// parts returns criterion i's input and target.
func (c *composite) parts(x, y *tensor.Tensor, i int) (xi, yi *tensor.Tensor) {
	if !c.parallel {
		Check(c.subs[i].c, x, y)
		return x, y
	}
	if len(c.subs) == 0 {
		panic(fmt.Errorf("%s has no criteria: add some with add(criterion, weight)", c.class))
	}
	if !x.IsTable() || len(x.Table) != len(c.subs) {
		panic(fmt.Errorf("%s: expected an input table of %d elements (one per criterion), got %s", c.class, len(c.subs), x.Describe()))
	}
	if c.repeatTarget {
		Check(c.subs[i].c, x.Table[i], y)
		return x.Table[i], y
	}
	if !y.IsTable() || len(y.Table) != len(c.subs) {
		panic(fmt.Errorf("%s: expected a target table of %d elements (one per criterion), got %s", c.class, len(c.subs), y.Describe()))
	}
	Check(c.subs[i].c, x.Table[i], y.Table[i])
	return x.Table[i], y.Table[i]
}

func (c *composite) Forward(x, y *tensor.Tensor) float64 {
	if len(c.subs) == 0 {
		panic(fmt.Errorf("%s has no criteria: add some with add(criterion, weight)", c.class))
	}
	var loss float64
	for i, s := range c.subs {
		xi, yi := c.parts(x, y, i)
		loss += s.weight * s.c.Forward(xi, yi)
	}
	return loss
}

func (c *composite) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	if len(c.subs) == 0 {
		panic(fmt.Errorf("%s has no criteria: add some with add(criterion, weight)", c.class))
	}
	if c.parallel {
		c.grad = tensor.EnsureTable(c.grad, len(c.subs))
	}
	for i, s := range c.subs {
		xi, yi := c.parts(x, y, i)
		g := s.c.Backward(xi, yi)
		if c.parallel {
			c.grad.Table[i] = scaled(c.grad.Table[i], g, s.weight, false)
		} else {
			c.grad = scaled(c.grad, g, s.weight, i > 0)
		}
	}
	return c.grad
}

// scaled writes w·g into dst (adds it, with add), tables element-wise.
func scaled(dst, g *tensor.Tensor, w float64, add bool) *tensor.Tensor {
	if g.IsTable() {
		if !add {
			dst = tensor.EnsureTable(dst, len(g.Table))
		}
		for i, e := range g.Table {
			dst.Table[i] = scaled(dst.Table[i], e, w, add)
		}
		return dst
	}
	if !add {
		dst = tensor.Ensure(dst, g.Shape...)
		clear(dst.Data)
	}
	for i, v := range g.Data {
		dst.Data[i] += float32(w) * v
	}
	return dst
}

// Norm: a split batch is weighted by records when the criteria average
// (exact when each averages over a count proportional to records, as
// MSE and unweighted ClassNLL do), and summed when none does.
func (c *composite) Norm(x, y *tensor.Tensor) (float64, bool) {
	averaged := false
	for i, s := range c.subs {
		xi, yi := c.parts(x, y, i)
		_, a := s.c.Norm(xi, yi)
		averaged = averaged || a
	}
	return float64(max(x.Records(), 1)), averaged
}

func (c *composite) takesTables()           {}
func (m *MarginRanking) takesTables()       {}
func (c *CosineEmbedding) takesTables()     {}
func (k *KLD) takesTables()                 {}
func (g *Gaussian) takesTables()            {}
func (s *SmoothL1WithWeights) takesTables() {}

// MarginRanking is BigDL's MarginRankingCriterion: for an input table
// [x1, x2] and targets y of ±1, max(0, -y·(x1 - x2) + margin), averaged
// over records with SizeAverage.
type MarginRanking struct {
	Margin      float64
	SizeAverage bool
	grad        *tensor.Tensor
}

// CosineEmbedding is BigDL's CosineEmbeddingCriterion: for an input table
// [x1, x2] of rows and targets y of ±1, 1 - cos(x1, x2) where y = 1 and
// max(0, cos(x1, x2) - margin) where y = -1.
type CosineEmbedding struct {
	Margin      float64
	SizeAverage bool
	grad        *tensor.Tensor
}

func init() {
	register("MarginRankingCriterion", func(a *nn.Args) (Criterion, error) {
		return &MarginRanking{Margin: a.Float("margin", 1), SizeAverage: a.Bool("size_average", true)}, nil
	})
	register("CosineEmbeddingCriterion", func(a *nn.Args) (Criterion, error) {
		return &CosineEmbedding{Margin: a.Float("margin", 0), SizeAverage: a.Bool("size_average", true)}, nil
	})
}

func (m *MarginRanking) Class() string { return "MarginRankingCriterion" }
func (m *MarginRanking) Config() map[string]any {
	return map[string]any{"margin": m.Margin, "size_average": m.SizeAverage}
}

// target is y, or y's first element when y is a table (BigDL's form).
func firstTensor(y *tensor.Tensor) *tensor.Tensor {
	if y.IsTable() && len(y.Table) > 0 {
		return y.Table[0]
	}
	return y
}

func (m *MarginRanking) terms(x, y *tensor.Tensor) (a, b, t *tensor.Tensor) {
	a, b = needPair(m.Class(), x)
	t = firstTensor(y)
	needTensor(m.Class(), "a target of ±1", t, a.Len())
	return a, b, t
}

func (m *MarginRanking) Norm(x, y *tensor.Tensor) (float64, bool) {
	a, _ := needPair(m.Class(), x)
	return float64(a.Len()), m.SizeAverage
}

func (m *MarginRanking) Forward(x, y *tensor.Tensor) float64 {
	a, b, t := m.terms(x, y)
	var s float64
	for i := range a.Data {
		s += math.Max(0, -float64(t.Data[i])*float64(a.Data[i]-b.Data[i])+m.Margin)
	}
	if m.SizeAverage {
		s /= float64(a.Len())
	}
	return s
}

func (m *MarginRanking) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	a, b, t := m.terms(x, y)
	m.grad = pairGrads(m.grad, a, b)
	scale := 1.0
	if m.SizeAverage {
		scale /= float64(a.Len())
	}
	ga, gb := m.grad.Table[0].Data, m.grad.Table[1].Data
	for i := range a.Data {
		ga[i], gb[i] = 0, 0
		if -float64(t.Data[i])*float64(a.Data[i]-b.Data[i])+m.Margin >= 0 {
			ga[i], gb[i] = float32(-float64(t.Data[i])*scale), float32(float64(t.Data[i])*scale)
		}
	}
	return m.grad
}

func (c *CosineEmbedding) Class() string { return "CosineEmbeddingCriterion" }
func (c *CosineEmbedding) Config() map[string]any {
	return map[string]any{"margin": c.Margin, "size_average": c.SizeAverage}
}

// cosEps keeps the cosine finite for a zero row.
const cosEps = 1e-12

func (c *CosineEmbedding) terms(x, y *tensor.Tensor) (a, b, t *tensor.Tensor, n, w int) {
	a, b = needPair(c.Class(), x)
	n = records(a)
	w = a.Len() / n
	t = firstTensor(y)
	needTensor(c.Class(), "a target of ±1 per row", t, n)
	return a, b, t, n, w
}

// row returns the dot product and squared norms of row i.
func cosRow(a, b []float32) (dot, na, nb float64) {
	for j := range a {
		dot += float64(a[j]) * float64(b[j])
		na += float64(a[j]) * float64(a[j])
		nb += float64(b[j]) * float64(b[j])
	}
	return dot, na + cosEps, nb + cosEps
}

func (c *CosineEmbedding) Norm(x, y *tensor.Tensor) (float64, bool) {
	a, _ := needPair(c.Class(), x)
	return float64(records(a)), c.SizeAverage
}

func (c *CosineEmbedding) Forward(x, y *tensor.Tensor) float64 {
	a, b, t, n, w := c.terms(x, y)
	var s float64
	for i := 0; i < n; i++ {
		dot, na, nb := cosRow(a.Data[i*w:(i+1)*w], b.Data[i*w:(i+1)*w])
		cos := dot / math.Sqrt(na*nb)
		if t.Data[i] > 0 {
			s += 1 - cos
		} else {
			s += math.Max(0, cos-c.Margin)
		}
	}
	if c.SizeAverage {
		s /= float64(n)
	}
	return s
}

func (c *CosineEmbedding) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	a, b, t, n, w := c.terms(x, y)
	c.grad = pairGrads(c.grad, a, b)
	scale := 1.0
	if c.SizeAverage {
		scale /= float64(n)
	}
	for i := 0; i < n; i++ {
		ra, rb := a.Data[i*w:(i+1)*w], b.Data[i*w:(i+1)*w]
		ga, gb := c.grad.Table[0].Data[i*w:(i+1)*w], c.grad.Table[1].Data[i*w:(i+1)*w]
		dot, na, nb := cosRow(ra, rb)
		cos := dot / math.Sqrt(na*nb)
		// d loss / d cos: -1 for similar pairs, 1 for dissimilar ones past the margin.
		d := 0.0
		switch {
		case t.Data[i] > 0:
			d = -1
		case cos > c.Margin:
			d = 1
		}
		d *= scale
		inv := 1 / math.Sqrt(na*nb)
		for j := range ra {
			ga[j] = float32(d * (float64(rb[j])*inv - cos*float64(ra[j])/na))
			gb[j] = float32(d * (float64(ra[j])*inv - cos*float64(rb[j])/nb))
		}
	}
	return c.grad
}

// KLD is BigDL's KLDCriterion: the KL divergence of N(mean, exp(logVar))
// from N(0, I) for an input table [mean, logVar] (the VAE loss); the target
// is ignored. With SizeAverage it is divided by the records.
type KLD struct {
	SizeAverage bool
	grad        *tensor.Tensor
}

// Gaussian is BigDL's GaussianCriterion: the negative log-likelihood of the
// target under N(mean, exp(logVar)) for an input table [mean, logVar].
type Gaussian struct{ grad *tensor.Tensor }

func init() {
	register("KLDCriterion", func(a *nn.Args) (Criterion, error) {
		return &KLD{SizeAverage: a.Bool("size_average", true)}, nil
	})
	register("GaussianCriterion", func(a *nn.Args) (Criterion, error) { return &Gaussian{}, nil })
}

func (k *KLD) Class() string          { return "KLDCriterion" }
func (k *KLD) Config() map[string]any { return map[string]any{"size_average": k.SizeAverage} }

func (k *KLD) scale(mean *tensor.Tensor) float64 {
	if k.SizeAverage {
		return 1 / float64(records(mean))
	}
	return 1
}

func (k *KLD) Norm(x, y *tensor.Tensor) (float64, bool) {
	mean, _ := needPair(k.Class(), x)
	return float64(records(mean)), k.SizeAverage
}

func (k *KLD) Forward(x, y *tensor.Tensor) float64 {
	mean, logVar := needPair(k.Class(), x)
	var s float64
	for i, m := range mean.Data {
		lv := float64(logVar.Data[i])
		s += 1 + lv - float64(m)*float64(m) - math.Exp(lv)
	}
	return -0.5 * s * k.scale(mean)
}

func (k *KLD) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	mean, logVar := needPair(k.Class(), x)
	k.grad = pairGrads(k.grad, mean, logVar)
	sc := k.scale(mean)
	for i, m := range mean.Data {
		k.grad.Table[0].Data[i] = float32(float64(m) * sc)
		k.grad.Table[1].Data[i] = float32(0.5 * (math.Exp(float64(logVar.Data[i])) - 1) * sc)
	}
	return k.grad
}

func (g *Gaussian) Class() string          { return "GaussianCriterion" }
func (g *Gaussian) Config() map[string]any { return map[string]any{} }

func (g *Gaussian) Norm(x, y *tensor.Tensor) (float64, bool) { return 1, false }

func (g *Gaussian) terms(x, y *tensor.Tensor) (mean, logVar *tensor.Tensor) {
	mean, logVar = needPair(g.Class(), x)
	needTensor(g.Class(), "a target shaped like the mean", y, mean.Len())
	return mean, logVar
}

func (g *Gaussian) Forward(x, y *tensor.Tensor) float64 {
	mean, logVar := g.terms(x, y)
	var s float64
	for i, m := range mean.Data {
		lv, d := float64(logVar.Data[i]), float64(m)-float64(y.Data[i])
		s += 0.5*lv + 0.5*math.Log(2*math.Pi) + 0.5*d*d/math.Exp(lv)
	}
	return s
}

func (g *Gaussian) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	mean, logVar := g.terms(x, y)
	g.grad = pairGrads(g.grad, mean, logVar)
	for i, m := range mean.Data {
		lv, d := float64(logVar.Data[i]), float64(m)-float64(y.Data[i])
		g.grad.Table[0].Data[i] = float32(d / math.Exp(lv))
		g.grad.Table[1].Data[i] = float32(0.5 - 0.5*d*d/math.Exp(lv))
	}
	return g.grad
}

// SmoothL1WithWeights is BigDL's SmoothL1CriterionWithWeights (Fast R-CNN's
// box loss): for a target table [t] or [t, insideW, outsideW], the sum of
// outsideW · smoothL1(insideW · (x - t)) with threshold 1/σ², divided by
// Num (by the input's first dimension when Num is 0).
type SmoothL1WithWeights struct {
	Sigma float64
	Num   int
	grad  *tensor.Tensor
}

func init() {
	register("SmoothL1CriterionWithWeights", func(a *nn.Args) (Criterion, error) {
		s := a.Float("sigma", math.NaN())
		if !(s > 0) {
			return nil, fmt.Errorf("SmoothL1CriterionWithWeights: argument sigma must be a positive number")
		}
		n := a.Int("num", 0)
		if n < 0 {
			return nil, fmt.Errorf("SmoothL1CriterionWithWeights: argument num must be ≥ 0, got %d", n)
		}
		return &SmoothL1WithWeights{Sigma: s, Num: n}, nil
	})
}

func (s *SmoothL1WithWeights) Class() string { return "SmoothL1CriterionWithWeights" }
func (s *SmoothL1WithWeights) Config() map[string]any {
	return map[string]any{"sigma": s.Sigma, "num": s.Num}
}

func (s *SmoothL1WithWeights) terms(x, y *tensor.Tensor) (t, in, out *tensor.Tensor, norm float64) {
	if x.IsTable() {
		panic(fmt.Errorf("%s: expected an input tensor, got a table %s", s.Class(), x.Describe()))
	}
	if !y.IsTable() || (len(y.Table) != 1 && len(y.Table) != 3) {
		panic(fmt.Errorf("%s: expected a target table [target] or [target, inside_weights, outside_weights], got %s", s.Class(), y.Describe()))
	}
	for _, e := range y.Table {
		needTensor(s.Class(), "target tensors shaped like the input "+tensor.ShapeString(x.Shape), e, x.Len())
	}
	t = y.Table[0]
	if len(y.Table) == 3 {
		in, out = y.Table[1], y.Table[2]
	}
	norm = float64(s.Num)
	if s.Num == 0 {
		norm = float64(max(x.Records(), 1))
	}
	return t, in, out, norm
}

func (s *SmoothL1WithWeights) Norm(x, y *tensor.Tensor) (float64, bool) {
	if s.Num > 0 {
		return 1, false
	}
	return float64(max(x.Records(), 1)), true
}

func weightAt(w *tensor.Tensor, i int) float64 {
	if w == nil {
		return 1
	}
	return float64(w.Data[i])
}

func (s *SmoothL1WithWeights) Forward(x, y *tensor.Tensor) float64 {
	t, in, out, norm := s.terms(x, y)
	s2 := s.Sigma * s.Sigma
	var sum float64
	for i, v := range x.Data {
		d := math.Abs(weightAt(in, i) * (float64(v) - float64(t.Data[i])))
		if d < 1/s2 {
			d = 0.5 * s2 * d * d
		} else {
			d -= 0.5 / s2
		}
		sum += weightAt(out, i) * d
	}
	return sum / norm
}

func (s *SmoothL1WithWeights) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	t, in, out, norm := s.terms(x, y)
	s2 := s.Sigma * s.Sigma
	s.grad = tensor.Ensure(s.grad, x.Shape...)
	for i, v := range x.Data {
		wi := weightAt(in, i)
		d := wi * (float64(v) - float64(t.Data[i]))
		var g float64
		switch {
		case math.Abs(d) < 1/s2:
			g = s2 * d
		case d > 0:
			g = 1
		default:
			g = -1
		}
		s.grad.Data[i] = float32(weightAt(out, i) * wi * g / norm)
	}
	return s.grad
}
