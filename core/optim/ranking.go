package optim

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// newRankingOrTree builds HitRatio, NDCG and TreeNNAccuracy; ok is false
// for other classes.
func newRankingOrTree(class string, spec map[string]any) (ValMethod, bool, error) {
	switch class {
	case "HitRatio", "NDCG":
		k, kok := intArg(spec, "k", 10)
		neg, nok := intArg(spec, "neg_num", 100)
		if !kok || k < 1 {
			return nil, true, fmt.Errorf("%s: argument k must be a positive integer, got %v", class, spec["k"])
		}
		if !nok || neg < 1 {
			return nil, true, fmt.Errorf("%s: argument neg_num must be a positive integer, got %v", class, spec["neg_num"])
		}
		return &ranking{ndcg: class == "NDCG", k: k, group: neg + 1}, true, nil
	case "TreeNNAccuracy":
		return &treeAccuracy{}, true, nil
	}
	return nil, false, nil
}

func intArg(spec map[string]any, name string, def int) (int, bool) {
	v, ok := spec[name]
	if !ok || v == nil {
		return def, true
	}
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) {
		return 0, false
	}
	return int(f), true
}

// ranking is BigDL's HitRatio and NDCG for recommendation: the scores come
// in groups of neg_num + 1, one user's positive item and its negatives,
// laid out in record order (one score per record, or a record's whole
// output). The positive is the group's item labelled 1 when the labels
// mark exactly one, else the first. Its rank is 1 + the number of items
// scoring higher; HitRatio@k counts ranks ≤ k, NDCG adds log 2/log(rank+1).
// A group may span evaluation batches: scores wait for the rest of theirs.
type ranking struct {
	ndcg          bool
	k, group      int
	scores, label []float32 // the group in progress
	sum           float64
	count         int
	labelled      bool // every score has a label
}

func (r *ranking) Name() string {
	if r.ndcg {
		return "NDCG"
	}
	return fmt.Sprintf("HitRatio@%d", r.k)
}

func (r *ranking) Add(out, y *tensor.Tensor) {
	if r.count == 0 && len(r.scores) == 0 {
		r.labelled = y.Len() == out.Len()
	}
	if r.labelled != (y.Len() == out.Len()) {
		panic(fmt.Errorf("%s: batches differ in how many labels each record has", r.Name()))
	}
	for i, s := range out.Data {
		r.scores = append(r.scores, s)
		if r.labelled {
			r.label = append(r.label, y.Data[i])
		}
		if len(r.scores) == r.group {
			r.score()
			r.scores, r.label = r.scores[:0], r.label[:0]
		}
	}
}

func (r *ranking) score() {
	pos := 0
	if r.labelled {
		ones := 0
		for i, l := range r.label {
			if l == 1 {
				pos, ones = i, ones+1
			}
		}
		if ones != 1 {
			pos = 0
		}
	}
	rank := 1
	for _, s := range r.scores {
		if s > r.scores[pos] {
			rank++
		}
	}
	switch {
	case rank > r.k:
	case r.ndcg:
		r.sum += float64(float32(math.Log(2) / math.Log(float64(rank+1))))
	default:
		r.sum++
	}
	r.count++
}

func (r *ranking) Result() Result {
	if len(r.scores) != 0 {
		panic(fmt.Errorf("%s: %d scores are left over after the last whole group of neg_num + 1 = %d; "+
			"the data must hold whole groups (on Spark, whole groups in every partition)", r.Name(), len(r.scores), r.group))
	}
	avg := 0.0
	if r.count > 0 {
		avg = r.sum / float64(r.count)
	}
	return Result{Method: r.Name(), Value: avg, Count: r.count,
		Text: fmt.Sprintf("(%s: %s, count: %d, Average %s: %s)", r.Name(), num(r.sum), r.count, r.Name(), num(avg))}
}

// treeAccuracy is BigDL's TreeNNAccuracy: the prediction for a tree is its
// root's, the first node of the record's output (N, nodes, classes), and
// the label is the first of the record's labels.
type treeAccuracy struct{ correct, count int }

func (t *treeAccuracy) Name() string { return "TreeNNAccuracy" }

func (t *treeAccuracy) Add(out, y *tensor.Tensor) {
	if out.Dims() != 3 {
		panic(fmt.Errorf("TreeNNAccuracy: expected output of shape (batch, nodes, classes), got %s", tensor.ShapeString(out.Shape)))
	}
	n, nodes, classes := out.Shape[0], out.Shape[1], out.Shape[2]
	if y.Dims() == 0 || y.Shape[0] != n {
		panic(fmt.Errorf("TreeNNAccuracy: %d records but labels of shape %s", n, tensor.ShapeString(y.Shape)))
	}
	per := y.Len() / n
	for i := 0; i < n; i++ {
		root := out.Data[i*nodes*classes : i*nodes*classes+classes]
		label := y.Data[i*per]
		pred := float32(0)
		if classes == 1 {
			if root[0] >= 0.5 {
				pred = 1
			}
		} else {
			best := 0
			for j, v := range root {
				if v > root[best] {
					best = j
				}
			}
			pred = float32(best + 1)
		}
		if pred == label {
			t.correct++
		}
		t.count++
	}
}

func (t *treeAccuracy) Result() Result { return accuracyResult(t.Name(), t.correct, t.count) }
