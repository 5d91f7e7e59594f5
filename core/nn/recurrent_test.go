package nn

import (
	"math"
	"math/rand"
	"runtime"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

func sigmoid64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// lstmStepByStep is BigDL's LSTM with dropout written out per record and
// step in float64, every gate with its own input and state mask.
func lstmStepByStep(l *LSTM, x *tensor.Tensor) []float64 {
	n, steps, in, h := x.Shape[0], x.Shape[1], l.In, l.Hidden
	W, B, U, BH := l.W.Value.Data, l.B.Value.Data, l.U.Value.Data, l.BH.Value.Data
	out := make([]float64, n*steps*h)
	for b := 0; b < n; b++ {
		hs, cs := make([]float64, h), make([]float64, h)
		for t := 0; t < steps; t++ {
			xt := x.Data[(b*steps+t)*in:]
			gate := make([][]float64, 4)
			for k := 0; k < 4; k++ {
				gate[k] = make([]float64, h)
				for j := 0; j < h; j++ {
					row := k*h + j
					s := float64(B[row]) + float64(BH[row])
					for i := 0; i < in; i++ {
						s += float64(W[row*in+i]) * float64(xt[i]) * float64(l.inMask[(k*n+b)*in+i])
					}
					for i := 0; i < h; i++ {
						s += float64(U[row*h+i]) * hs[i] * float64(l.recMask[(k*n+b)*h+i])
					}
					if k == 1 {
						gate[k][j] = math.Tanh(s)
					} else {
						gate[k][j] = sigmoid64(s)
					}
				}
			}
			for j := 0; j < h; j++ {
				cs[j] = gate[2][j]*cs[j] + gate[0][j]*gate[1][j]
				hs[j] = gate[3][j] * math.Tanh(cs[j])
				out[(b*steps+t)*h+j] = hs[j]
			}
		}
	}
	return out
}

// Dropout in BigDL's recurrent cells draws one mask per gate, record and
// feature, and uses it at every step: the step-by-step reference reads the
// masks the sequence was run with.
func TestLSTMDropoutMasksEveryStepAlike(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	rng.Global.Seed(3)
	rec := mustNew(t, "Recurrent", nil).(*Recurrent)
	l := mustNew(t, "LSTM", map[string]any{"input_size": 5.0, "hidden_size": 6.0, "p": 0.4}).(*LSTM)
	if err := rec.Add(l); err != nil {
		t.Fatal(err)
	}
	x := randTensor(r, 3, 7, 5)
	y := rec.Forward(x)
	want := lstmStepByStep(l, x)
	zeros := 0
	for _, m := range l.inMask {
		if m == 0 {
			zeros++
		} else if math.Abs(float64(m)-1/0.6) > 1e-6 {
			t.Fatalf("a kept input is scaled by %v, want 1/(1-p)", m)
		}
	}
	if zeros == 0 || zeros == len(l.inMask) {
		t.Fatalf("%d of %d inputs dropped at p = 0.4", zeros, len(l.inMask))
	}
	for i, v := range y.Data {
		if math.Abs(float64(v)-want[i]) > 1e-5 {
			t.Fatalf("output %d: %v, step-by-step reference %v", i, v, want[i])
		}
	}
	trained := y.Clone()
	SetTraining(rec, false)
	eval := rec.Forward(x)
	same := true
	for i := range eval.Data {
		same = same && eval.Data[i] == trained.Data[i]
	}
	if same {
		t.Fatal("evaluation mode gives the training output: it still drops")
	}
}

// A dropout cell's step allocates nothing either (its masks are reused).
func TestRecurrentDropoutDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, cell := range []string{"LSTM", "GRU", "LSTMPeephole"} {
		rec := mustNew(t, "Recurrent", nil).(*Recurrent)
		if err := rec.Add(mustNew(t, cell, map[string]any{"input_size": 4.0, "hidden_size": 5.0, "p": 0.3})); err != nil {
			t.Fatal(err)
		}
		requireNoAllocs(t, cell, rec, randTensor(r, 3, 6, 4), randTensor(r, 3, 6, 5))
	}
}

// An embedding, a recurrent layer and a per-step classifier, as a sequence
// tagger stacks them, allocate nothing per step.
func TestSequenceLayersDoNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	seq := NewSequential()
	seq.Add(mustNew(t, "LookupTable", map[string]any{"n_index": 20.0, "n_output": 6.0, "max_norm": 1.0,
		"should_scale_grad_by_freq": true}))
	rec := mustNew(t, "Recurrent", nil).(*Recurrent)
	if err := rec.Add(mustNew(t, "GRU", map[string]any{"input_size": 6.0, "hidden_size": 5.0})); err != nil {
		t.Fatal(err)
	}
	seq.Add(rec)
	td := mustNew(t, "TimeDistributed", nil).(*TimeDistributed)
	if err := td.Add(NewLinear(5, 3, true)); err != nil {
		t.Fatal(err)
	}
	seq.Add(td)
	x := tensor.New(4, 7)
	for i := range x.Data {
		x.Data[i] = float32(1 + r.Intn(20))
	}
	requireNoAllocs(t, "tagger", seq, x, randTensor(r, 4, 7, 3))
}

// requireNoAllocs fails unless a forward and backward of m, after a first
// that sizes the buffers, allocates nothing.
func requireNoAllocs(t *testing.T, what string, m Module, x, gy *tensor.Tensor) {
	t.Helper()
	step := func() {
		m.Forward(x)
		m.Backward(x, gy)
	}
	step()
	if a := testing.AllocsPerRun(10, step); a != 0 {
		t.Fatalf("%s: %v allocations per forward+backward", what, a)
	}
}

// BenchmarkLSTMStep is one forward and backward of bench/lstm_bench.py's
// LSTM(28 -> 128) over 28 steps at batch 64, as one training worker runs it.
func BenchmarkLSTMStep(b *testing.B) { benchmarkCellStep(b, "LSTM") }

// BenchmarkGRUStep is the same with a GRU cell.
func BenchmarkGRUStep(b *testing.B) { benchmarkCellStep(b, "GRU") }

func benchmarkCellStep(b *testing.B, cell string) {
	r := rand.New(rand.NewSource(1))
	rec := mustNew(b, "Recurrent", nil).(*Recurrent)
	if err := rec.Add(mustNew(b, cell, map[string]any{"input_size": 28.0, "hidden_size": 128.0})); err != nil {
		b.Fatal(err)
	}
	SetInputGradUnused(rec, true)
	SetGradsOverwritten(rec, true)
	x, gy := randTensor(r, 64, 28, 28), randTensor(r, 64, 28, 128)
	// On one thread the step runs on this goroutine's thread, whose CPU time
	// leaves out the time it waited for a CPU on a shared machine.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, cpuOK := kernels.ThreadCPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec.Forward(x)
		rec.Backward(x, gy)
	}
	if cpu1, ok := kernels.ThreadCPUTime(); ok && cpuOK && runtime.GOMAXPROCS(0) == 1 {
		b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(b.N), "ns-cpu/op")
	}
}

// Both directions and the merge of a BiRecurrent reuse their buffers too.
func TestBiRecurrentDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	b := mustNew(t, "BiRecurrent", nil).(*BiRecurrent)
	if err := b.Add(mustNew(t, "LSTM", map[string]any{"input_size": 4.0, "hidden_size": 5.0})); err != nil {
		t.Fatal(err)
	}
	requireNoAllocs(t, "BiRecurrent", b, randTensor(r, 3, 6, 4), randTensor(r, 3, 6, 5))
}

// A stack of cells reuses each cell's buffers and its own.
func TestMultiRNNCellDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	rec := mustNew(t, "Recurrent", nil).(*Recurrent)
	multi := mustNew(t, "MultiRNNCell", nil).(*MultiRNNCell)
	for _, c := range []Module{mustNew(t, "LSTM", map[string]any{"input_size": 4.0, "hidden_size": 5.0}),
		mustNew(t, "GRU", map[string]any{"input_size": 5.0, "hidden_size": 3.0})} {
		if err := multi.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Add(multi); err != nil {
		t.Fatal(err)
	}
	requireNoAllocs(t, "MultiRNNCell", rec, randTensor(r, 3, 6, 4), randTensor(r, 3, 6, 3))
}

// The decoder's feedback steps reuse the cell's buffers too.
func TestRecurrentDecoderDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	d := mustNew(t, "RecurrentDecoder", map[string]any{"output_length": 5.0}).(*RecurrentDecoder)
	if err := d.Add(mustNew(t, "LSTM", map[string]any{"input_size": 4.0, "hidden_size": 4.0})); err != nil {
		t.Fatal(err)
	}
	requireNoAllocs(t, "RecurrentDecoder", d, randTensor(r, 3, 4), randTensor(r, 3, 5, 4))
}

// Replicas sharing an embedding with max_norm, run at once as training
// workers run them, do not race (go test -race): renorm rewrites the rows
// a batch reads the first time it reads them, so every batch reads new ones.
func TestLookupTableMaxNormReplicasDoNotRace(t *testing.T) {
	const batches, perBatch = 40, 6
	m := mustNew(t, "LookupTable", map[string]any{"n_index": float64(batches * perBatch), "n_output": 8.0, "max_norm": 0.5})
	Flatten(m)
	replica, _, err := Clone(m)
	if err != nil {
		t.Fatal(err)
	}
	xs := make([]*tensor.Tensor, batches)
	for i := range xs {
		xs[i] = tensor.New(perBatch)
		for j := range xs[i].Data {
			xs[i].Data[j] = float32(1 + i*perBatch + j)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, x := range xs {
			replica.Forward(x)
		}
	}()
	for _, x := range xs {
		m.Forward(x)
	}
	<-done
}

// The convolutional cell reuses its convolutions' and its own buffers.
func TestConvLSTMPeepholeDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	rec := mustNew(t, "Recurrent", nil).(*Recurrent)
	if err := rec.Add(mustNew(t, "ConvLSTMPeephole", map[string]any{"input_size": 2.0, "output_size": 3.0,
		"kernel_i": 3.0, "kernel_c": 3.0})); err != nil {
		t.Fatal(err)
	}
	requireNoAllocs(t, "ConvLSTMPeephole", rec, randTensor(r, 2, 4, 2, 5, 5), randTensor(r, 2, 4, 3, 5, 5))
}

// The recurrent cells' gradients against central differences, for weights
// and input, with gradients accumulated (the default) and overwritten (as
// in training), which take different paths to W's and U's gradients; the
// two must agree. Hidden 20 at batch 5 makes the recurrent products take
// the packed U on every kernel set.
func TestRecurrentCellGradients(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for _, c := range []struct {
		class string
		args  map[string]any
	}{
		{"LSTM", map[string]any{"input_size": 3.0, "hidden_size": 20.0}},
		{"LSTMPeephole", map[string]any{"input_size": 3.0, "hidden_size": 20.0}},
		{"GRU", map[string]any{"input_size": 3.0, "hidden_size": 20.0}},
		{"RnnCell", map[string]any{"input_size": 3.0, "hidden_size": 20.0, "activation": "tanh"}},
	} {
		t.Run(c.class, func(t *testing.T) {
			rec := mustNew(t, "Recurrent", nil).(*Recurrent)
			if err := rec.Add(mustNew(t, c.class, c.args)); err != nil {
				t.Fatal(err)
			}
			x, gy := randTensor(r, 5, 4, 3), randTensor(r, 5, 4, 20)
			checkGradients(t, rec, x)

			backward := func() [][]float32 {
				rec.Forward(x)
				rec.Backward(x, gy)
				var out [][]float32
				for _, p := range AllParams(rec) {
					out = append(out, append([]float32(nil), p.Grad.Data...))
				}
				return out
			}
			ZeroGrads(rec)
			once := backward()
			twice := backward()
			SetGradsOverwritten(rec, true)
			backward()
			over := backward()
			SetGradsOverwritten(rec, false)
			for i, p := range AllParams(rec) {
				for j := range once[i] {
					if d := math.Abs(float64(over[i][j] - once[i][j])); d > 1e-6*(1+math.Abs(float64(once[i][j]))) {
						t.Fatalf("%s[%d]: overwritten gradient %v, accumulated once %v", p.Name, j, over[i][j], once[i][j])
					}
					if d := math.Abs(float64(twice[i][j] - 2*once[i][j])); d > 1e-5*(1+math.Abs(float64(once[i][j]))) {
						t.Fatalf("%s[%d]: accumulated twice %v, want twice %v", p.Name, j, twice[i][j], once[i][j])
					}
				}
			}
		})
	}
}
