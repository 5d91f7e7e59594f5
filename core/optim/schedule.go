package optim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/nn"
)

// Schedule is a learning-rate schedule for SGD (BigDL's
// LearningRateSchedule). rate is called once per step, before the update,
// with the SGD whose step it is: s.t counts the steps so far (BigDL's
// evalCounter), s.base is the base rate (SequentialSchedule rewrites it) and
// s.seen the trainer's state for this step. Plateau and SequentialSchedule
// keep state, so a step's rate must be asked for once; peek previews it
// without changing anything.
type Schedule interface {
	rate(s *SGD) float64
	peek(s *SGD) float64
	position() *span
}

// span is where a schedule sits inside a SequentialSchedule: the steps and
// epochs before it began, and the step after which it ends.
type span struct {
	Exclude       int `json:"exclude"`
	ExcludeEpochs int `json:"exclude_epochs"`
	Max           int `json:"max"`
}

func (p *span) position() *span { return p }

// NewSchedule builds a schedule from its spec, {"class": "Step", "step_size": 10, "gamma": 0.5}.
func NewSchedule(spec map[string]any) (Schedule, error) {
	class, _ := spec["class"].(string)
	a := nn.NewArgs(class, spec)
	var s Schedule
	switch class {
	case "Default":
		s = &defaultSchedule{}
	case "Poly":
		s = &poly{Power: a.Float("power", 0), MaxIteration: a.PositiveInt("max_iteration")}
	case "Step":
		s = &step{StepSize: a.PositiveInt("step_size"), Gamma: a.Float("gamma", 0)}
	case "MultiStep":
		steps := a.Ints("step_sizes")
		for i, v := range steps {
			if v < 0 || i > 0 && v < steps[i-1] {
				return nil, fmt.Errorf("MultiStep: argument step_sizes must be non-negative and increasing, got %v", steps)
			}
		}
		s = &multiStep{StepSizes: steps, Gamma: a.Float("gamma", 0)}
	case "Exponential":
		s = &exponential{DecayStep: a.PositiveInt("decay_step"), DecayRate: a.Float("decay_rate", 0),
			StairCase: a.Bool("stair_case", false)}
	case "NaturalExp":
		s = &naturalExp{DecayStep: a.PositiveInt("decay_step"), Gamma: a.Float("gamma", 0)}
	case "Warmup":
		s = &warmup{Delta: a.Float("delta", 0)}
	case "Plateau":
		p := &Plateau{Monitor: a.String("monitor", ""), Factor: a.Float("factor", 0.1), Patience: a.Int("patience", 10),
			Mode: a.String("mode", "min"), Epsilon: a.Float("epsilon", 1e-4), Cooldown: a.Int("cooldown", 0),
			MinLR: a.Float("min_lr", 0)}
		switch {
		case p.Monitor != "Loss" && p.Monitor != "score":
			return nil, fmt.Errorf("Plateau: argument monitor must be \"Loss\" or \"score\", got %q", p.Monitor)
		case p.Mode != "min" && p.Mode != "max":
			return nil, fmt.Errorf("Plateau: argument mode must be \"min\" or \"max\", got %q", p.Mode)
		case p.Factor >= 1 || p.Factor < 0:
			return nil, fmt.Errorf("Plateau: argument factor must be in [0, 1), got %v", p.Factor)
		case p.Patience < 0 || p.Cooldown < 0:
			return nil, fmt.Errorf("Plateau: arguments patience and cooldown must be ≥ 0, got %d and %d", p.Patience, p.Cooldown)
		}
		p.reset()
		s = p
	case "SequentialSchedule":
		q := &sequential{PerEpoch: a.PositiveInt("iteration_per_epoch")}
		list, _ := spec["schedules"].([]any)
		if len(list) == 0 {
			return nil, fmt.Errorf("SequentialSchedule: add at least one schedule with add(schedule, max_iteration)")
		}
		for i, x := range list {
			pair, _ := x.([]any)
			sub, _ := pair[0].(map[string]any)
			n, _ := pair[1].(float64)
			if len(pair) != 2 || sub == nil || n < 1 || n != math.Trunc(n) {
				return nil, fmt.Errorf("SequentialSchedule: entry %d must be a schedule and a positive max_iteration", i+1)
			}
			c, err := NewSchedule(sub)
			if err != nil {
				return nil, err
			}
			q.add(c, int(n))
		}
		s = q
	default:
		return nil, fmt.Errorf("unknown learning-rate schedule %q (schedules: Default, Poly, Step, MultiStep, "+
			"Exponential, NaturalExp, Plateau, Warmup, SequentialSchedule)", class)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// iter is the step counted from the start of schedule p.
func (p *span) iter(s *SGD) int { return s.t - p.Exclude }

type defaultSchedule struct{ span }

func (d *defaultSchedule) rate(s *SGD) float64 { return d.peek(s) }
func (d *defaultSchedule) peek(s *SGD) float64 {
	return s.base / (1 + float64(d.iter(s))*s.LRDecay)
}

// poly decays to zero at MaxIteration. BigDL counts its steps from the
// start of the run even inside a SequentialSchedule.
type poly struct {
	span
	Power        float64
	MaxIteration int
}

func (p *poly) rate(s *SGD) float64 { return p.peek(s) }
func (p *poly) peek(s *SGD) float64 {
	if s.t > p.MaxIteration {
		return 0
	}
	return s.base * math.Pow(1-float64(s.t)/float64(p.MaxIteration), p.Power)
}

type step struct {
	span
	StepSize int
	Gamma    float64
}

func (p *step) rate(s *SGD) float64 { return p.peek(s) }
func (p *step) peek(s *SGD) float64 {
	lr := s.base
	for i := 0; i < p.iter(s)/p.StepSize; i++ {
		lr *= p.Gamma
	}
	return lr
}

type multiStep struct {
	span
	StepSizes []int
	Gamma     float64
}

func (p *multiStep) rate(s *SGD) float64 { return p.peek(s) }
func (p *multiStep) peek(s *SGD) float64 {
	lr := s.base
	for _, b := range p.StepSizes {
		if p.iter(s) < b {
			break
		}
		lr *= p.Gamma
	}
	return lr
}

type exponential struct {
	span
	DecayStep int
	DecayRate float64
	StairCase bool
}

func (p *exponential) rate(s *SGD) float64 { return p.peek(s) }
func (p *exponential) peek(s *SGD) float64 {
	e := float64(p.iter(s)) / float64(p.DecayStep)
	if p.StairCase {
		e = math.Floor(e)
	}
	return s.base * math.Pow(p.DecayRate, e)
}

type naturalExp struct {
	span
	DecayStep int
	Gamma     float64
}

func (p *naturalExp) rate(s *SGD) float64 { return p.peek(s) }
func (p *naturalExp) peek(s *SGD) float64 {
	return s.base * math.Exp(-p.Gamma*float64(p.iter(s)/p.DecayStep))
}

type warmup struct {
	span
	Delta float64
}

func (p *warmup) rate(s *SGD) float64 { return p.peek(s) }
func (p *warmup) peek(s *SGD) float64 { return s.base + p.Delta*float64(p.iter(s)) }

// Plateau multiplies the rate by Factor when the monitored quantity (the
// training loss of the step, or the last validation score) has not
// improved by Epsilon for more than Patience epochs. Like BigDL's, it looks
// once per epoch, at the epoch's first step.
type Plateau struct {
	span
	Monitor, Mode                string
	Factor, Epsilon, MinLR       float64
	Patience, Cooldown           int
	Best                         float64 `json:"best"`
	Wait, CooldownLeft, CurEpoch int
	Current                      float64 // the rate; 0 before the first step
}

func (p *Plateau) reset() {
	p.Best, p.CurEpoch = math.Inf(1), 1
	if p.Mode == "max" {
		p.Best = math.Inf(-1)
	}
}

func (p *Plateau) better(v float64) bool {
	// BigDL compares in float32.
	a, b, eps := float32(v), float32(p.Best), float32(p.Epsilon)
	if p.Mode == "min" {
		return a < b-eps
	}
	return a > b+eps
}

func (p *Plateau) peek(s *SGD) float64 {
	if p.Current == 0 {
		return s.base
	}
	return p.Current
}

func (p *Plateau) rate(s *SGD) float64 {
	epoch := s.seen.Epoch - p.ExcludeEpochs
	if epoch == 1 || p.Current == 0 {
		p.Current = s.base
	}
	if epoch == p.CurEpoch {
		return p.Current
	}
	p.CurEpoch = epoch
	var v float64
	if p.Monitor == "score" {
		if !s.seen.HasScore {
			panic(fmt.Errorf("Plateau(monitor=\"score\") needs a validation score: call set_validation"))
		}
		v = s.seen.Score
	} else {
		v = s.seen.Loss
	}
	if p.CooldownLeft > 0 {
		p.CooldownLeft--
		p.Wait = 0
	}
	if p.better(v) {
		p.Best, p.Wait = v, 0
	} else if p.CooldownLeft <= 0 {
		if p.Wait >= p.Patience && float32(p.Current) > float32(p.MinLR)*(1+1e-4) {
			p.Current = math.Max(p.Current*float64(float32(p.Factor)), p.MinLR)
			p.CooldownLeft, p.Wait = p.Cooldown, 0
		}
		p.Wait++
	}
	return p.Current
}

// sequential runs each schedule for its number of steps in turn. As in
// BigDL, a schedule runs one step past its count, and the next starts from
// the rate the last one reached.
type sequential struct {
	span
	PerEpoch  int
	Schedules []Schedule
	Cur       int
	Current   float64
}

func (q *sequential) add(c Schedule, n int) {
	sp := c.position()
	if len(q.Schedules) > 0 {
		sp.Exclude = q.Schedules[len(q.Schedules)-1].position().Max
	}
	sp.Max = sp.Exclude + n
	sp.ExcludeEpochs = sp.Exclude / q.PerEpoch
	q.Schedules = append(q.Schedules, c)
}

func (q *sequential) rate(s *SGD) float64 {
	// Past the last schedule's count, the last one goes on (BigDL stops
	// with an index error).
	if s.t > q.Schedules[q.Cur].position().Max && q.Cur+1 < len(q.Schedules) {
		s.base = q.Current
		q.Cur++
	}
	q.Current = q.Schedules[q.Cur].rate(s)
	return q.Current
}

func (q *sequential) peek(s *SGD) float64 { return q.Schedules[q.Cur].peek(s) }

// scheduleState is what carries a schedule's position between the segments
// of a distributed run: the base rate and each stateful schedule's fields.
type scheduleState struct {
	Base      float64           `json:"base"`
	Plateaus  []json.RawMessage `json:"plateaus,omitempty"`
	Sequences []json.RawMessage `json:"sequences,omitempty"`
}

// stateful lists the schedules below s that keep state, in a fixed order.
func stateful(s Schedule, f func(Schedule)) {
	switch s := s.(type) {
	case *Plateau:
		f(s)
	case *sequential:
		f(s)
		for _, c := range s.Schedules {
			stateful(c, f)
		}
	}
}

// ScheduleState reports where s's schedule is (nil without one).
func (s *SGD) ScheduleState() map[string]any {
	if s.Schedule == nil {
		return nil
	}
	st := scheduleState{Base: s.base}
	stateful(s.Schedule, func(c Schedule) {
		switch c := c.(type) {
		case *Plateau:
			b, _ := json.Marshal(plateauJSON(c))
			st.Plateaus = append(st.Plateaus, b)
		case *sequential:
			b, _ := json.Marshal(map[string]any{"cur": c.Cur, "current": c.Current})
			st.Sequences = append(st.Sequences, b)
		}
	})
	var out map[string]any
	b, _ := json.Marshal(st)
	json.Unmarshal(b, &out)
	return out
}

func plateauJSON(p *Plateau) map[string]any {
	best := p.Best
	inf := 0
	if math.IsInf(best, 0) { // JSON has no infinity
		inf, best = int(math.Copysign(1, best)), 0
	}
	return map[string]any{"best": best, "best_inf": inf, "wait": p.Wait, "cooldown_left": p.CooldownLeft,
		"cur_epoch": p.CurEpoch, "current": p.Current}
}

// SetScheduleState moves s's schedule to where ScheduleState found one.
func (s *SGD) SetScheduleState(m map[string]any) error {
	if m == nil || s.Schedule == nil {
		return nil
	}
	var st scheduleState
	b, _ := json.Marshal(m)
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("set_state: schedule: %w", err)
	}
	s.base = st.Base
	var err error
	pi, si := 0, 0
	stateful(s.Schedule, func(c Schedule) {
		switch c := c.(type) {
		case *Plateau:
			var v struct {
				Best         float64 `json:"best"`
				BestInf      int     `json:"best_inf"`
				Wait         int     `json:"wait"`
				CooldownLeft int     `json:"cooldown_left"`
				CurEpoch     int     `json:"cur_epoch"`
				Current      float64 `json:"current"`
			}
			if pi >= len(st.Plateaus) || json.Unmarshal(st.Plateaus[pi], &v) != nil {
				err = fmt.Errorf("set_state: the schedule's state does not match it")
				return
			}
			pi++
			c.Best, c.Wait, c.CurEpoch, c.Current = v.Best, v.Wait, v.CurEpoch, v.Current
			if v.BestInf != 0 {
				c.Best = math.Inf(v.BestInf)
			}
			c.CooldownLeft = v.CooldownLeft
		case *sequential:
			var v struct {
				Cur     int     `json:"cur"`
				Current float64 `json:"current"`
			}
			if si >= len(st.Sequences) || json.Unmarshal(st.Sequences[si], &v) != nil || v.Cur < 0 || v.Cur >= len(c.Schedules) {
				err = fmt.Errorf("set_state: the schedule's state does not match it")
				return
			}
			si++
			c.Cur, c.Current = v.Cur, v.Current
		}
	})
	return err
}

// observe gives s the trainer's state for the coming step (Plateau reads
// its epoch, loss and score).
func (s *SGD) observe(st State) { s.seen = st }

// needsLoss reports whether the step's rate depends on the step's own loss
// (a Plateau monitoring "Loss"), so the update must wait for it.
func (s *SGD) needsLoss() bool { return s.lossNeeded }

func monitorsLoss(sched Schedule) bool {
	found := false
	stateful(sched, func(c Schedule) {
		if p, ok := c.(*Plateau); ok && p.Monitor == "Loss" {
			found = true
		}
	})
	return found
}

// needsScore reports whether a Plateau monitors the validation score, which
// only set_validation provides.
func (s *SGD) needsScore() bool {
	found := false
	if s.Schedule != nil {
		stateful(s.Schedule, func(c Schedule) {
			if p, ok := c.(*Plateau); ok && p.Monitor == "score" {
				found = true
			}
		})
	}
	return found
}

// checkScoreSource refuses a schedule that monitors the validation score
// (Plateau("score")) in a run that never validates.
func (t *Trainer) checkScoreSource() error {
	n, ok := t.Method.(interface{ needsScore() bool })
	validates := t.Validation != nil || t.Dist != nil && t.Dist.Stop != nil
	if ok && n.needsScore() && !validates {
		return errors.New(`Plateau("score") monitors the validation score: call set_validation, or monitor "Loss"`)
	}
	return nil
}
