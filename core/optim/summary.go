package optim

import (
	"fmt"
	"strings"
	"time"

	"github.com/bigdl-go/bigdl-go/core/nn"
)

// SummaryWriter receives what a TrainSummary or ValidationSummary records
// (core/summary.Writer writes it to an event file).
type SummaryWriter interface {
	Scalar(tag string, value float32, step int64, wall float64) error
	Histogram(tag string, values []float32, step int64, wall float64) error
	Flush() error
}

// TrainSummary is what set_train_summary configured: where the records go,
// and when each is recorded (a nil trigger: never). Steps are iterations.
type TrainSummary struct {
	Writer                                     SummaryWriter
	Loss, Throughput, LearningRate, Parameters Trigger

	params []paramSeries // built by prepare
}

// paramSeries is one parameter's (or gradient's) histogram series:
// BigDL's tags "<layer>/weight", "<layer>/gradWeight".
type paramSeries struct {
	tag    string
	values []float32
}

// prepareParams lists the model's parameters and gradients under BigDL's
// tags, once per run, so recording them allocates nothing.
func (s *TrainSummary) prepareParams(m nn.Module) {
	s.params = s.params[:0]
	nn.Walk(m, func(x nn.Module) {
		for _, p := range x.Params() {
			name := x.Meta().Name()
			s.params = append(s.params,
				paramSeries{name + "/" + p.Name, p.Value.Data},
				paramSeries{name + "/grad" + strings.ToUpper(p.Name[:1]) + p.Name[1:], p.Grad.Data})
		}
	})
}

// iterationRecord is what one iteration can record.
type iterationRecord struct {
	loss, lr    float64 // lr: the rate the step used
	records     int     // records in the step (all tasks')
	start       time.Time
	paramsWhole bool // the gradients are the whole batch's, not one task's shard of it
}

func wallSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// beginRecord notes, before a step of records records, what the train
// summary may record about it: the step's start and its learning rate.
// Without a summary it reads no clock.
func (t *Trainer) beginRecord(records int, paramsWhole bool) iterationRecord {
	if t.Summary == nil {
		return iterationRecord{}
	}
	return iterationRecord{lr: t.Method.LearningRate(), records: records, start: time.Now(), paramsWhole: paramsWhole}
}

// recordSummary records the step begun with r, whose loss was loss, as
// the train summary's triggers ask.
func (t *Trainer) recordSummary(r iterationRecord, loss float64) error {
	if t.Summary == nil {
		return nil
	}
	r.loss = loss
	return summaryError("train", t.Summary.record(&t.State, r, time.Now()))
}

// flushSummaries writes what the summaries buffered when a run ends, and
// reports a failed write as the run's error when it had none.
func (t *Trainer) flushSummaries(runErr *error) {
	var err error
	if t.Summary != nil {
		err = summaryError("train", t.Summary.Writer.Flush())
	}
	if v := t.Validation; v != nil && v.Summary != nil && err == nil {
		err = summaryError("validation", v.Summary.Flush())
	}
	if *runErr == nil {
		*runErr = err
	}
}

// record writes what the summary's triggers ask for at the state st, for
// an iteration that ended at end.
func (s *TrainSummary) record(st *State, r iterationRecord, end time.Time) error {
	step := int64(st.Iteration)
	wall := wallSeconds(end)
	seconds := end.Sub(r.start).Seconds()
	scalar := func(trig Trigger, tag string, v float64) error {
		if trig == nil || !trig(st) {
			return nil
		}
		return s.Writer.Scalar(tag, float32(v), step, wall)
	}
	if err := scalar(s.Loss, "Loss", r.loss); err != nil {
		return err
	}
	if err := scalar(s.Throughput, "Throughput", float64(r.records)/max(seconds, 1e-9)); err != nil {
		return err
	}
	if err := scalar(s.LearningRate, "LearningRate", r.lr); err != nil {
		return err
	}
	if s.Parameters != nil && r.paramsWhole && s.Parameters(st) {
		for _, p := range s.params {
			if err := s.Writer.Histogram(p.tag, p.values, step, wall); err != nil {
				return err
			}
		}
	}
	return nil
}

// summaryError names the summary a write failed for ("train":
// TrainSummary, "validation": ValidationSummary).
func summaryError(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", map[string]string{"train": "TrainSummary", "validation": "ValidationSummary"}[what], err)
}
