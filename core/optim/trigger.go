package optim

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/nn"
)

// State is what triggers look at: BigDL's epoch (1-based, the epoch in
// progress) and the iterations completed so far, plus the last validation
// score and training loss.
type State struct {
	Epoch      int
	Iteration  int
	Score      float64
	HasScore   bool
	Loss       float64
	EpochEnded bool // the last iteration finished an epoch
}

// Trigger decides, after each iteration, whether something should happen
// (validation) or training should end.
type Trigger func(s *State) bool

// NewTrigger builds a trigger from its spec, {"class": "MaxEpoch", "max_epoch": 20}.
func NewTrigger(spec map[string]any) (Trigger, error) {
	class, _ := spec["class"].(string)
	a := nn.NewArgs(class, spec)
	var t Trigger
	switch class {
	case "MaxEpoch":
		n := a.PositiveInt("max_epoch")
		t = func(s *State) bool { return s.Epoch > n }
	case "MaxIteration":
		n := a.PositiveInt("max")
		t = func(s *State) bool { return s.Iteration >= n }
	case "EveryEpoch":
		t = func(s *State) bool { return s.EpochEnded }
	case "SeveralIteration":
		n := a.PositiveInt("interval")
		t = func(s *State) bool { return s.Iteration > 0 && s.Iteration%n == 0 }
	case "MaxScore":
		m := a.Float("max", 0)
		t = func(s *State) bool { return s.HasScore && s.Score > m }
	case "MinLoss":
		m := a.Float("min", 0)
		t = func(s *State) bool { return s.Iteration > 0 && s.Loss < m }
	case "TriggerAnd", "TriggerOr":
		list, ok := spec["triggers"].([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("%s: needs at least one trigger", class)
		}
		subs := make([]Trigger, len(list))
		for i, x := range list {
			m, ok := x.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: argument %d is not a trigger", class, i+1)
			}
			sub, err := NewTrigger(m)
			if err != nil {
				return nil, err
			}
			subs[i] = sub
		}
		and := class == "TriggerAnd"
		t = func(s *State) bool {
			// Every trigger is evaluated, so stateful ones see every step.
			all, any := true, false
			for _, sub := range subs {
				v := sub(s)
				all, any = all && v, any || v
			}
			if and {
				return all
			}
			return any
		}
	default:
		return nil, fmt.Errorf("unknown trigger %q", class)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return t, nil
}
