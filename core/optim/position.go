package optim

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/rng"
)

// Position is where a local run stands between two iterations: with the
// model's weights and the optim method's state, all a run needs to go on
// exactly as if it had never stopped (an optim-method file and a
// checkpoint keep it). Resume's fields mean what they mean for a task of a
// distributed run, the run being one task over all the records.
type Position struct {
	Seed    uint32 `json:"seed"`    // the shuffling stream's seed; Resume.Shuffles says how far it went
	Records int    `json:"records"` // the training set's size
	Resume
	// Tasks, for a distributed run, is where each task stood (Resume then
	// holds only the counters and the clock).
	Tasks *Tasks `json:"tasks,omitempty"`
	// CountersOnly carries over only the counters and the clock: the next
	// run's data starts a fresh pass, as when BigDL's Optimizer runs again
	// (optimize() after set_end_when).
	CountersOnly bool `json:"counters_only,omitempty"`
}

// Tasks is where the tasks of a distributed run stood: the driver's
// generator the first segment started from, and each rank's Resume.
type Tasks struct {
	RNG    *rng.State `json:"rng,omitempty"`
	Resume []Resume   `json:"resume"`
}

// Checkpoint is set_checkpoint's configuration: when the trigger fires
// after an iteration (and its validation), Save is given the run's position.
type Checkpoint struct {
	Trigger Trigger
	Save    func(p *Position) error
}

// snapshot is the run's position, its Dropout streams included.
func (t *Trainer) snapshot() *Position {
	p := t.at
	t.saveStreams(&p.Resume)
	return &p
}

// LastPosition is where the last run ended (nil before any run finished
// an iteration). Not to be read while Run runs.
func (t *Trainer) LastPosition() *Position { return t.last }

// resumeFrom puts a prepared run at p: its counters, its place in the
// shuffled order, and its Dropout streams.
func (t *Trainer) resumeFrom(p *Position, n int) error {
	if p.Tasks != nil || p.CountersOnly {
		return nil // only its counters carry over (see Run)
	}
	if p.Records != n {
		return fmt.Errorf("the optim method was saved from a run over %d training records; "+
			"this training set has %d: resume with the same data", p.Records, n)
	}
	if p.Cursor < 0 || p.Cursor >= n || p.Shuffles < 1 || p.State.Epoch < 1 || p.State.Iteration < 0 {
		return fmt.Errorf("the optim method's saved run position is invalid (epoch %d, iteration %d, record %d of %d)",
			p.State.Epoch, p.State.Iteration, p.Cursor, n)
	}
	if p.Global != nil {
		if err := rng.Global.SetState(*p.Global); err != nil {
			return fmt.Errorf("resuming the Dropout stream: %w", err)
		}
	}
	saved, want := p.Workers, len(t.workers)
	if t.workers[0].rng == nil { // one worker draws from the global stream
		want = 0
	}
	if len(saved) != want {
		return fmt.Errorf("the run was saved with %d workers and resumes with %d: "+
			"resume with the same core count (BIGDL_CORE_NUMBER) so the Dropout streams continue", max(len(saved), 1), len(t.workers))
	}
	for i, s := range saved {
		if err := t.workers[i].rng.SetState(s); err != nil {
			return fmt.Errorf("resuming the Dropout stream of worker %d: %w", i, err)
		}
	}
	return nil
}

// checkStateFits refuses a method whose buffers were made for a model with
// another number of parameters (a loaded method given another model).
func checkStateFits(m Method, n int) error {
	if _, ok := m.(*PerModule); ok {
		return nil // its parts' ranges were fitted to the model when it was built
	}
	for _, b := range StateOf(m).Bufs {
		if len(b) != n {
			return fmt.Errorf("the optim method's state (%s) is for a model of %d parameters; this model has %d",
				m.Class(), len(b), n)
		}
	}
	return nil
}
