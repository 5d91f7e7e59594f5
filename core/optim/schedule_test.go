package optim

import (
	"math"
	"strings"
	"testing"
)

// rates runs n steps of SGD(lr, decay) with schedule spec on one parameter
// whose gradient is 1, and returns each step's rate as the update shows it.
// states, when given, is the trainer state each step sees.
func rates(t *testing.T, lr, decay float64, spec map[string]any, n int, states func(i int) State) []float64 {
	t.Helper()
	m, err := NewMethod("SGD", map[string]any{"learningrate": lr, "learningrate_decay": decay, "leaningrate_schedule": spec})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, n)
	for i := range out {
		if states != nil {
			m.(*SGD).observe(states(i))
		}
		x, g := []float32{0}, []float32{1}
		m.Update(x, g)
		out[i] = -float64(x[0])
	}
	return out
}

func TestSchedulesFollowTheirFormulas(t *testing.T) {
	const lr = 0.5
	cases := []struct {
		spec map[string]any
		want func(t int) float64
	}{
		{map[string]any{"class": "Default"}, func(t int) float64 { return lr / (1 + float64(t)*0.1) }},
		{map[string]any{"class": "Poly", "power": 2.0, "max_iteration": 8.0}, func(t int) float64 {
			if t > 8 {
				return 0
			}
			return lr * math.Pow(1-float64(t)/8, 2)
		}},
		{map[string]any{"class": "Step", "step_size": 3.0, "gamma": 0.5}, func(t int) float64 { return lr * math.Pow(0.5, float64(t/3)) }},
		{map[string]any{"class": "MultiStep", "step_sizes": []any{2.0, 5.0, 6.0}, "gamma": 0.1}, func(t int) float64 {
			k := 0
			for _, s := range []int{2, 5, 6} {
				if t >= s {
					k++
				}
			}
			return lr * math.Pow(0.1, float64(k))
		}},
		{map[string]any{"class": "Exponential", "decay_step": 4.0, "decay_rate": 0.9}, func(t int) float64 { return lr * math.Pow(0.9, float64(t)/4) }},
		{map[string]any{"class": "Exponential", "decay_step": 4.0, "decay_rate": 0.9, "stair_case": true}, func(t int) float64 {
			return lr * math.Pow(0.9, float64(t/4))
		}},
		{map[string]any{"class": "NaturalExp", "decay_step": 3.0, "gamma": 0.7}, func(t int) float64 { return lr * math.Exp(-0.7*float64(t/3)) }},
		{map[string]any{"class": "Warmup", "delta": 0.25}, func(t int) float64 { return lr + 0.25*float64(t) }},
	}
	for _, c := range cases {
		got := rates(t, lr, 0.1, c.spec, 12, nil)
		for i, g := range got {
			if w := float64(float32(c.want(i))); g != w {
				t.Errorf("%v: step %d rate %v, want %v", c.spec["class"], i, g, w)
			}
		}
	}
}

func TestSequentialScheduleHandsOver(t *testing.T) {
	// Warmup for 3 steps, then Step from the rate warmup reached. BigDL
	// switches after step max_iteration, so warmup runs steps 0..3.
	spec := map[string]any{"class": "SequentialSchedule", "iteration_per_epoch": 5.0, "schedules": []any{
		[]any{map[string]any{"class": "Warmup", "delta": 0.1}, 3.0},
		[]any{map[string]any{"class": "Step", "step_size": 2.0, "gamma": 0.5}, 10.0},
	}}
	got := rates(t, 0.2, 0, spec, 9, nil)
	top := 0.2 + 0.1*3
	want := []float64{0.2, 0.3, 0.4, 0.5, top, top * 0.5, top * 0.5, top * 0.25, top * 0.25}
	for i := range want {
		if got[i] != float64(float32(want[i])) {
			t.Fatalf("step %d: rate %v, want %v (all %v)", i, got[i], want[i], got)
		}
	}
}

func TestPlateauReactsToAScriptedSeries(t *testing.T) {
	// One step per epoch; the score series stalls after epoch 3.
	scores := []float64{0.5, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.8, 0.8, 0.8, 0.8}
	spec := map[string]any{"class": "Plateau", "monitor": "score", "factor": 0.5, "patience": 2.0, "mode": "max"}
	got := rates(t, 1, 0, spec, len(scores), func(i int) State {
		s := State{Epoch: i + 1}
		if i > 0 {
			s.Score, s.HasScore = scores[i-1], true
		}
		return s
	})
	// Reference: BigDL's rule (wait counts epochs without improvement;
	// a cut happens when wait has reached patience, then wait restarts).
	want, lr, best, wait := []float64{}, 1.0, math.Inf(-1), 0
	for i := range scores {
		if i > 0 {
			if v := scores[i-1]; v > best+1e-4 {
				best, wait = v, 0
			} else {
				if wait >= 2 {
					lr, wait = lr*0.5, 0
				}
				wait++
			}
		}
		want = append(want, lr)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("epoch %d: rate %v, want %v (all %v)", i+1, got[i], want[i], got)
		}
	}
	if got[len(got)-1] == 1 {
		t.Fatal("Plateau never cut the rate")
	}
}

func TestBadSchedulesAreRefused(t *testing.T) {
	for _, c := range []struct {
		spec map[string]any
		want string
	}{
		{map[string]any{"class": "Step", "step_size": 0.0, "gamma": 0.5}, "step_size"},
		{map[string]any{"class": "Step", "step_size": -2.0, "gamma": 0.5}, "step_size"},
		{map[string]any{"class": "Exponential", "decay_step": 0.0, "decay_rate": 0.5}, "decay_step"},
		{map[string]any{"class": "NaturalExp", "decay_step": 0.0, "gamma": 0.5}, "decay_step"},
		{map[string]any{"class": "Poly", "power": 1.0, "max_iteration": 0.0}, "max_iteration"},
		{map[string]any{"class": "MultiStep", "step_sizes": []any{5.0, 2.0}, "gamma": 0.5}, "step_sizes"},
		{map[string]any{"class": "Plateau", "monitor": "accuracy"}, "monitor"},
		{map[string]any{"class": "Plateau", "monitor": "Loss", "factor": 1.5}, "factor"},
		{map[string]any{"class": "SequentialSchedule", "iteration_per_epoch": 3.0}, "add"},
		{map[string]any{"class": "Cosine"}, "unknown"},
	} {
		_, err := NewMethod("SGD", map[string]any{"leaningrate_schedule": c.spec})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error naming %s", c.spec, err, c.want)
		}
	}
}

func TestPlateauStateCarriesOver(t *testing.T) {
	spec := map[string]any{"class": "Plateau", "monitor": "Loss", "patience": 0.0}
	m1, _ := NewMethod("SGD", map[string]any{"learningrate": 1.0, "leaningrate_schedule": spec})
	m2, _ := NewMethod("SGD", map[string]any{"learningrate": 1.0, "leaningrate_schedule": spec})
	a, b := m1.(*SGD), m2.(*SGD)
	for i := 0; i < 4; i++ {
		a.observe(State{Epoch: i + 1, Loss: 1})
		a.Update([]float32{0}, []float32{1})
	}
	if err := b.SetScheduleState(a.ScheduleState()); err != nil {
		t.Fatal(err)
	}
	a.observe(State{Epoch: 5, Loss: 1})
	b.observe(State{Epoch: 5, Loss: 1})
	x, y := []float32{0}, []float32{0}
	a.Update(x, []float32{1})
	b.Update(y, []float32{1})
	if x[0] != y[0] || x[0] == -1 {
		t.Fatalf("restored Plateau steps %v, the original %v (a cut was due)", y[0], x[0])
	}
}
