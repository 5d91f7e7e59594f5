package optim

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Result is one validation method's score over a data set.
type Result struct {
	Method string  `json:"method"`
	Value  float64 `json:"result"`
	Count  int     `json:"total_num"`
	Text   string  `json:"text"` // BigDL's printed form, e.g. Accuracy(correct: 9, count: 10, accuracy: 0.9)
}

// ValMethod accumulates a score over batches.
type ValMethod interface {
	Name() string
	Add(output, target *tensor.Tensor)
	Result() Result
}

// NewValMethod builds a validation method from its spec,
// {"class": "Loss", "criterion": {"class": "ClassNLLCriterion"}}.
func NewValMethod(spec map[string]any) (ValMethod, error) {
	class, _ := spec["class"].(string)
	switch class {
	case "Top1Accuracy":
		return &topK{name: class, k: 1}, nil
	case "Top5Accuracy":
		return &topK{name: class, k: 5}, nil
	case "MAE":
		return &mae{}, nil
	case "Loss":
		cspec, _ := spec["criterion"].(map[string]any)
		cclass, _ := cspec["class"].(string)
		if cclass == "" {
			cclass = "ClassNLLCriterion"
		}
		args, _ := cspec["args"].(map[string]any)
		c, err := criterion.New(cclass, args)
		if err != nil {
			return nil, fmt.Errorf("Loss: %w", err)
		}
		return &loss{c: c}, nil
	}
	if v, ok, err := newRankingOrTree(class, spec); ok {
		return v, err
	}
	return nil, fmt.Errorf("unknown validation method %q (supported: Top1Accuracy, Top5Accuracy, Loss, MAE, "+
		"HitRatio, NDCG, TreeNNAccuracy)", class)
}

// num formats a float32 quantity in its shortest form, as the JVM prints
// BigDL's Float results (0.9, not 0.8999999761581421).
func num(v float64) string {
	s := strconv.FormatFloat(v, 'g', -1, 32)
	if !strings.ContainsAny(s, ".eEnN") {
		s += ".0"
	}
	return s
}

type topK struct {
	name           string
	k              int
	correct, count int
}

func (t *topK) Name() string { return t.name }

// Add counts records whose label (1-based) is among the k highest outputs.
// A single output column is read as the probability of label 1 against
// label 0, thresholded at 0.5, as BigDL does for binary models.
func (t *topK) Add(out, y *tensor.Tensor) {
	needTensors(t.name, out, y)
	n, classes := out.Rows()
	if out.Dims() == 1 {
		n, classes = 1, out.Len()
	}
	if y.Len() != n {
		panic(fmt.Errorf("%s: %d labels for %d records", t.name, y.Len(), n))
	}
	for i := 0; i < n; i++ {
		row := out.Data[i*classes : (i+1)*classes]
		label := y.Data[i]
		if classes == 1 {
			pred := float32(0)
			if row[0] > 0.5 {
				pred = 1
			}
			if pred == label {
				t.correct++
			}
			t.count++
			continue
		}
		lab := int(label) - 1
		if float32(lab+1) != label || lab < 0 || lab >= classes {
			panic(fmt.Errorf("%s: label %v of record %d is not a class index: labels are 1-based, expected an integer in [1, %d]",
				t.name, label, i+1, classes))
		}
		// The label is in the top k when fewer than k outputs beat it.
		higher := 0
		for j, v := range row {
			if v > row[lab] || (v == row[lab] && j < lab) {
				higher++
			}
		}
		if higher < t.k {
			t.correct++
		}
		t.count++
	}
}

func (t *topK) Result() Result { return accuracyResult(t.name, t.correct, t.count) }

// accuracyResult is a count of correct records, printed as BigDL prints it.
func accuracyResult(name string, correct, count int) Result {
	acc := 0.0
	if count > 0 {
		acc = float64(correct) / float64(count)
	}
	return Result{Method: name, Value: acc, Count: count,
		Text: fmt.Sprintf("Accuracy(correct: %d, count: %d, accuracy: %s)", correct, count, num(acc))}
}

// loss reports the exact mean of per-record losses (bigdl-go's rule, see the
// API spec §5.3), so the figure does not depend on batch size or partitioning.
type loss struct {
	c     criterion.Criterion
	sum   float64
	count int
}

func (l *loss) Name() string { return "Loss" }
func (l *loss) Add(out, y *tensor.Tensor) {
	s, n := criterion.SumRecordLosses(l.c, out, y)
	l.sum += s
	l.count += n
}
func (l *loss) Result() Result {
	avg := 0.0
	if l.count > 0 {
		avg = l.sum / float64(l.count)
	}
	return Result{Method: "Loss", Value: avg, Count: l.count,
		Text: fmt.Sprintf("(Loss: %s, count: %d, Average Loss: %s)", num(l.sum), l.count, num(avg))}
}

// mae is the mean absolute error per record (averaged over each record's
// output elements), then over records.
type mae struct {
	sum   float64
	count int
}

func (m *mae) Name() string { return "MAE" }
func (m *mae) Add(out, y *tensor.Tensor) {
	needTensors("MAE", out, y)
	if out.Len() != y.Len() {
		panic(fmt.Errorf("MAE: target of shape %s does not match output of shape %s", tensor.ShapeString(y.Shape), tensor.ShapeString(out.Shape)))
	}
	n, w := out.Rows()
	if out.Dims() == 1 {
		n, w = 1, out.Len()
	}
	for i := 0; i < n; i++ {
		var s float64
		for j := i * w; j < (i+1)*w; j++ {
			s += math.Abs(float64(out.Data[j] - y.Data[j]))
		}
		m.sum += s / float64(w)
	}
	m.count += n
}
func (m *mae) Result() Result {
	avg := 0.0
	if m.count > 0 {
		avg = m.sum / float64(m.count)
	}
	return Result{Method: "MAE", Value: avg, Count: m.count,
		Text: fmt.Sprintf("(Loss: %s, count: %d, Average Loss: %s)", num(m.sum), m.count, num(avg))}
}

// needTensors panics unless a validation method that scores one tensor got
// tensors.
func needTensors(method string, out, y *tensor.Tensor) {
	if out.IsTable() || y.IsTable() {
		panic(fmt.Errorf("%s: needs the model's output and the label to be tensors, got %s and %s (use Loss for tables)",
			method, out.Describe(), y.Describe()))
	}
}

// Batches calls f on consecutive row ranges [lo, hi) of n records.
func batches(n, size int, f func(lo, hi int)) {
	for lo := 0; lo < n; lo += size {
		f(lo, min(lo+size, n))
	}
}

// rowSlice views records [lo, hi) of t (a tensor or a table) without copying.
func rowSlice(t *tensor.Tensor, lo, hi int) *tensor.Tensor { return t.Slice(lo, hi) }

// withMode runs f with m in training (true) or evaluation mode, restoring the
// mode the caller had.
func withMode(m nn.Module, training bool, f func()) {
	prev := m.Meta().Training()
	nn.SetTraining(m, training)
	defer nn.SetTraining(m, prev)
	f()
}

// Evaluate scores m on (x, y) in evaluation mode, batch by batch.
func Evaluate(m nn.Module, x, y *tensor.Tensor, batchSize int, methods []ValMethod) []Result {
	withMode(m, false, func() {
		batches(x.Records(), batchSize, func(lo, hi int) {
			out := nn.Forward(m, rowSlice(x, lo, hi))
			for _, v := range methods {
				v.Add(out, rowSlice(y, lo, hi))
			}
		})
	})
	res := make([]Result, len(methods))
	for i, v := range methods {
		res[i] = v.Result()
	}
	return res
}

// Predict returns m's outputs for every record of x, in evaluation mode:
// a tensor whose first dimension is the record, or a table of them.
func Predict(m nn.Module, x *tensor.Tensor, batchSize int) *tensor.Tensor {
	var out *tensor.Tensor
	n := x.Records()
	withMode(m, false, func() {
		batches(n, batchSize, func(lo, hi int) {
			out = collect(out, nn.Forward(m, rowSlice(x, lo, hi)), lo, hi, n)
		})
	})
	return out
}

// collect copies a batch's output o (records [lo, hi) of n) into out,
// allocated with o's structure on the first batch.
func collect(out, o *tensor.Tensor, lo, hi, n int) *tensor.Tensor {
	if o.IsTable() {
		if out == nil {
			out = tensor.NewTable(make([]*tensor.Tensor, len(o.Table))...)
		}
		if !out.IsTable() || len(out.Table) != len(o.Table) {
			panic(fmt.Errorf("predict: the model's output changed between batches, to %s", o.Describe()))
		}
		for i, e := range o.Table {
			out.Table[i] = collect(out.Table[i], e, lo, hi, n)
		}
		return out
	}
	if hi-lo == 1 && o.Dims() > 0 && o.Shape[0] != 1 || o.Dims() == 0 && hi-lo == 1 {
		// A batch of one can lose its batch dimension (View without
		// num_input_dims does, as in Torch): the output is one record.
		o = &tensor.Tensor{Shape: append([]int{1}, o.Shape...), Data: o.Data}
	}
	if o.Dims() == 0 || o.Shape[0] != hi-lo {
		panic(fmt.Errorf("predict: the model returned shape %s for a batch of %d records", tensor.ShapeString(o.Shape), hi-lo))
	}
	if out == nil {
		out = tensor.New(append([]int{n}, o.Shape[1:]...)...)
	}
	per := o.Len() / (hi - lo)
	if out.IsTable() || per*n != out.Len() {
		panic(fmt.Errorf("predict: the model's output shape changed between batches"))
	}
	copy(out.Data[lo*per:hi*per], o.Data)
	return out
}

// Classes returns, for each record of out, the 1-based index of its highest
// output (BigDL's predict_class).
func Classes(out *tensor.Tensor) *tensor.Tensor {
	if out.IsTable() {
		panic(fmt.Errorf("predict_class: the model's output is a table %s; classes need one tensor", out.Describe()))
	}
	n := out.Shape[0]
	per := out.Len() / max(n, 1)
	classes := tensor.New(n)
	for i := 0; i < n; i++ {
		row := out.Data[i*per : (i+1)*per]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		classes.Data[i] = float32(best + 1)
	}
	return classes
}
