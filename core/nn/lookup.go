package nn

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// LookupTable is an embedding: each 1-based index of a (T,) or (batch, T)
// input selects a row of the weight (n_index, n_output). Inputs equal to
// padding_value get no weight gradient; with max_norm, the rows an input
// selects are rescaled in place to at most that norm first (BigDL's
// renorm); should_scale_grad_by_freq divides each row's gradient by how
// often its index occurs in the input.
type LookupTable struct {
	Base
	NIndex, NOutput int
	PaddingValue    float64
	MaxNorm         float64
	NormType        float64
	ScaleByFreq     bool
	Weight          *Param
	params          []*Param
	inits           initMethods
	output, gradIn  *tensor.Tensor
	rows            []int32 // the rows an input selects, 0-based
	counts          []int32 // (n_index,): occurrences of each index, with ScaleByFreq
	sorted          []int32 // renorm's distinct rows
	outShape        []int
	lock            *sync.Mutex // renormLocks' entry for the weight's storage
	lockKey         *float32
}

// renormLocks serialise the lookups of replicas that share one weight when
// max_norm rewrites its rows during forward: training workers run replicas
// of a model on parts of a batch at once, and one's renorm must not race
// another's reads. Keyed by the weight storage's first element.
var renormLocks sync.Map

func init() {
	Register("LookupTable", func(a *Args) (Module, error) {
		l := &LookupTable{Base: newBase("LookupTable"), NIndex: a.PositiveInt("n_index"), NOutput: a.PositiveInt("n_output"),
			PaddingValue: a.Float("padding_value", 0), MaxNorm: a.Float("max_norm", math.MaxFloat64),
			NormType: a.Float("norm_type", 2), ScaleByFreq: a.Bool("should_scale_grad_by_freq", false)}
		if a.Err() == nil && l.NormType <= 0 {
			return nil, fmt.Errorf("LookupTable: argument norm_type must be positive, got %v", l.NormType)
		}
		if a.Err() == nil && l.MaxNorm <= 0 {
			return nil, fmt.Errorf("LookupTable: argument max_norm must be positive, got %v", l.MaxNorm)
		}
		l.Weight = newParam("weight", l.NIndex, l.NOutput)
		l.params = []*Param{l.Weight}
		l.inits = initMethods{weight: normalInit{class: "RandomNormal", mean: 0, stdv: 1, fixed: true}} // BigDL's default
		l.Reset()
		return l, nil
	})
}

func (l *LookupTable) Reset()           { l.inits.draw(l, l.Weight, nil) }
func (l *LookupTable) Params() []*Param { return l.params }
func (l *LookupTable) overwritesGrads() {}

// Fans: BigDL initialises the weight in VariableFormat.Default, both fans
// the element count.
func (l *LookupTable) Fans(p *Param) (int, int) { return FansDefault(p.Value.Shape) }

func (l *LookupTable) SetInitMethods(w, b InitMethod) error {
	if err := l.inits.set(l, l.Weight, nil, w, nil); err != nil {
		return err
	}
	l.Reset()
	return nil
}

func (l *LookupTable) Config() map[string]any {
	return map[string]any{"n_index": l.NIndex, "n_output": l.NOutput, "padding_value": l.PaddingValue,
		"max_norm": l.MaxNorm, "norm_type": l.NormType, "should_scale_grad_by_freq": l.ScaleByFreq}
}

func (l *LookupTable) String() string {
	s := fmt.Sprintf("LookupTable[%s](nIndex=%d,nOutput=%d,paddingValue=%v,normType=%v", l.name, l.NIndex, l.NOutput,
		l.PaddingValue, l.NormType)
	if l.MaxNorm != math.MaxFloat64 {
		s += fmt.Sprintf(" ,maxNorm=%v", l.MaxNorm)
	}
	return s + ")"
}

// indices checks x is (T,) or (batch, T) of indices in 1..n_index and
// records the rows they select.
func (l *LookupTable) indices(x *tensor.Tensor) {
	if x.Dims() != 1 && x.Dims() != 2 {
		shapeError(l, "(T,) or (batch, T) indices", x.Shape)
	}
	if cap(l.rows) < x.Len() {
		l.rows = make([]int32, x.Len())
	}
	l.rows = l.rows[:x.Len()]
	for i, v := range x.Data {
		// BigDL reads an index as an integer, truncating.
		if !(v >= 1 && v < float32(l.NIndex)+1) {
			panic(fmt.Errorf("%s: input of shape %s holds index %v at position %d: indices are 1-based, from 1 to n_index = %d",
				l.String(), tensor.ShapeString(x.Shape), v, i+1, l.NIndex))
		}
		l.rows[i] = int32(v) - 1
	}
}

// weightLock is the lock of the weight's storage (which Flatten may move).
func (l *LookupTable) weightLock() *sync.Mutex {
	if key := &l.Weight.Value.Data[0]; key != l.lockKey {
		mu, _ := renormLocks.LoadOrStore(key, new(sync.Mutex))
		l.lock, l.lockKey = mu.(*sync.Mutex), key
	}
	return l.lock
}

// renorm rescales each selected row whose norm exceeds MaxNorm to MaxNorm.
func (l *LookupTable) renorm() {
	if l.MaxNorm == math.MaxFloat64 {
		return
	}
	l.sorted = append(l.sorted[:0], l.rows...)
	slices.Sort(l.sorted)
	for i, r := range l.sorted {
		if i > 0 && r == l.sorted[i-1] {
			continue
		}
		row := l.Weight.Value.Data[int(r)*l.NOutput : int(r+1)*l.NOutput]
		var norm float64
		for _, v := range row {
			switch l.NormType {
			case 1:
				norm += math.Abs(float64(v))
			case 2:
				norm += float64(v) * float64(v)
			default:
				norm += math.Pow(math.Abs(float64(v)), l.NormType)
			}
		}
		norm = math.Pow(norm, 1/l.NormType)
		if norm > l.MaxNorm {
			// A plain loop, not the kernel: the race detector sees Go code's writes only.
			k := float32(l.MaxNorm / (norm + 1e-7))
			for j := range row {
				row[j] *= k
			}
		}
	}
}

func (l *LookupTable) Forward(x *tensor.Tensor) *tensor.Tensor {
	l.indices(x)
	if l.MaxNorm != math.MaxFloat64 {
		mu := l.weightLock()
		mu.Lock()
		defer mu.Unlock()
	}
	l.renorm()
	l.outShape = append(append(l.outShape[:0], x.Shape...), l.NOutput)
	l.output = tensor.Ensure(l.output, l.outShape...)
	w := l.Weight.Value.Data
	for i, r := range l.rows {
		copy(l.output.Data[i*l.NOutput:(i+1)*l.NOutput], w[int(r)*l.NOutput:int(r+1)*l.NOutput])
	}
	return l.output
}

// Backward returns zeros (indices have no gradient) and adds each
// position's output gradient to its row's weight gradient.
func (l *LookupTable) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	l.indices(x)
	if gy.Len() != x.Len()*l.NOutput {
		shapeError(l, fmt.Sprintf("a gradient of shape %s + (%d,)", tensor.ShapeString(x.Shape), l.NOutput), gy.Shape)
	}
	if !l.frozen {
		g := l.Weight.Grad.Data
		if l.gradsOverwritten {
			clear(g)
		}
		if l.ScaleByFreq {
			if cap(l.counts) < l.NIndex {
				l.counts = make([]int32, l.NIndex)
			}
			l.counts = l.counts[:l.NIndex]
			for _, r := range l.rows {
				l.counts[r] = 0
			}
			for _, r := range l.rows {
				l.counts[r]++
			}
		}
		for i, r := range l.rows {
			if float64(x.Data[i]) == l.PaddingValue {
				continue
			}
			scale := float32(1)
			if l.ScaleByFreq {
				scale = 1 / float32(l.counts[r])
			}
			kernels.Axpy(scale, gy.Data[i*l.NOutput:(i+1)*l.NOutput], g[int(r)*l.NOutput:int(r+1)*l.NOutput])
		}
	}
	if l.inputGradUnused {
		return nil
	}
	l.gradIn = tensor.Ensure(l.gradIn, x.Shape...)
	clear(l.gradIn.Data)
	return l.gradIn
}
