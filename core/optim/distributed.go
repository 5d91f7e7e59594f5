package optim

import (
	"errors"
	"fmt"
	"time"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/rng"
)

// Sync shares gradients and weights between the tasks of a distributed run
// (core/dist.Comm implements it over TCP).
type Sync interface {
	Rank() int
	Ranks() int
	// ReduceScatter sums vec over all ranks into this rank's shard [lo, hi),
	// and small, a few numbers, over all ranks in place.
	ReduceScatter(vec []float32, small []float64) (lo, hi int, err error)
	// AllGather fills the other ranks' shards of vec with theirs.
	AllGather(vec []float32) error
}

// Distributed makes a Trainer one task of a synchronous data-parallel run
// (BigDL's DistriOptimizer): every task holds one partition of the data,
// takes its share of each global mini-batch, and the tasks sum their
// gradients shard by shard; each task updates the shard it owns with its
// own optim method (whose state is that shard's) and the shards are
// exchanged. A run is cut into segments (between validations), each one
// Run; Resume carries the position from one segment to the next.
type Distributed struct {
	Sync  Sync
	Total int    // records in all partitions: one epoch
	Seed  uint32 // the run's shuffling seed; each rank shuffles with rankSeed(Seed, rank)
	// RNG is the driver's global generator after it drew the shuffling
	// seed: where a local run's Dropout masks would come from (see
	// startGlobal). Nil: this process's global generator as it is.
	RNG *rng.State
	// Stop ends the segment after the iteration where it fires (the
	// validation trigger); Stopped reports that it did.
	Stop    Trigger
	Stopped bool
	Resume  Resume
	// FailAt and HangAt are test hooks: fail, or stop answering, before
	// this iteration (0: never).
	FailAt, HangAt int
}

// Resume is where a segment ended: the trigger state and this task's
// position in its shuffled partition.
type Resume struct {
	State        State   `json:"state"`
	EpochRecords int     `json:"epoch_records"` // records of the epoch in progress, all tasks
	Cursor       int     `json:"cursor"`        // position in this task's shuffled order
	Shuffles     int     `json:"shuffles"`      // shuffles of this task's order so far
	Elapsed      float64 `json:"elapsed"`       // seconds of training before this segment
	// Where this task's Dropout streams were: the global generator (one
	// worker draws from it) and each worker's own (several workers).
	Global  *rng.State  `json:"global,omitempty"`
	Workers []rng.State `json:"workers,omitempty"`
}

// Share is rank's part of a global mini-batch of n records: as even as
// possible, the first ranks taking one less.
func Share(rank, ranks, n int) (lo, hi int) { return rank * n / ranks, (rank + 1) * n / ranks }

// runDistributed is Run for one task of a distributed run. With one task it
// trains exactly as Run does on the same data and seed.
func (t *Trainer) runDistributed() (err error) {
	d := t.Dist
	where := struct{ epoch, iteration int }{}
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
		if err != nil && where.iteration > 0 && !errors.Is(err, ErrCancelled) {
			err = fmt.Errorf("training failed at epoch %d, iteration %d: %w", where.epoch, where.iteration, err)
		}
	}()
	rank, ranks := d.Sync.Rank(), d.Sync.Ranks()
	if d.Total < ranks {
		return fmt.Errorf("distributed training: %d records cannot fill %d tasks", d.Total, ranks)
	}
	defer t.release() // also after a failed prepare: it may have started workers
	defer t.flushSummaries(&err)
	if err := d.startGlobal(rank); err != nil {
		return err
	}
	if err := t.prepare(); err != nil {
		return err
	}
	if err := t.resumeWorkerStreams(); err != nil {
		return err
	}
	lo, hi := Share(rank, ranks, len(t.weights))
	if err := shardMethod(t.Method, lo, hi, len(t.weights)); err != nil {
		return err
	}
	n := t.X.Records()
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	// Replaying the shuffles puts the order where the last segment left it.
	shuffler := rng.New(rankSeed(d.Seed, rank))
	r := d.Resume
	if r.Shuffles == 0 {
		r.Shuffles = 1
	}
	for range r.Shuffles {
		shuffler.Shuffle(order)
	}
	t.State = r.State
	if t.State.Epoch == 0 {
		t.State.Epoch = 1
	}
	t.progress.store(&t.State, r.EpochRecords)
	d.Stopped = false
	idx := make([]int, 0, t.BatchSize)
	nn.SetTraining(t.Model, true)
	start := time.Now().Add(-time.Duration(r.Elapsed * float64(time.Second)))
	lastLog, logged, recordsSinceLog := time.Now(), -1, 0
	for !t.End(&t.State) {
		if t.cancelled.Load() {
			return ErrCancelled
		}
		next := t.State.Iteration + 1
		where.epoch, where.iteration = t.State.Epoch, next
		if next == d.FailAt {
			return fmt.Errorf("injected failure of task %d before iteration %d (test hook)", rank, next)
		}
		if next == d.HangAt {
			for !t.cancelled.Load() { // a task that stops answering its peers
				time.Sleep(10 * time.Millisecond)
			}
			return ErrCancelled
		}
		batch := min(t.BatchSize, d.Total-r.EpochRecords)
		blo, bhi := Share(rank, ranks, batch)
		idx = idx[:0]
		for need := bhi - blo; need > 0; {
			take := min(need, n-r.Cursor)
			idx = append(idx, order[r.Cursor:r.Cursor+take]...)
			r.Cursor += take
			need -= take
			if r.Cursor == n {
				shuffler.Shuffle(order)
				r.Shuffles++
				r.Cursor = 0
			}
		}
		// Each task holds only its shard of the summed gradient: the
		// driver records the weights between segments instead.
		rec := t.beginRecord(batch, false)
		loss, err := t.checkedStep(idx)
		if err != nil {
			return err
		}
		t.State.Iteration++
		t.State.Loss = loss
		if err := t.recordSummary(rec, loss); err != nil {
			return err
		}
		recordsSinceLog += batch
		r.EpochRecords += batch
		epoch, done := t.State.Epoch, r.EpochRecords
		t.State.EpochEnded = r.EpochRecords == d.Total
		if t.State.EpochEnded {
			t.State.Epoch++
			r.EpochRecords = 0
		}
		t.progress.store(&t.State, r.EpochRecords)
		now := time.Now()
		stop := d.Stop != nil && d.Stop(&t.State)
		if logged < 0 || now.Sub(lastLog) >= t.LogInterval || stop || t.End(&t.State) {
			t.logProgress(epoch, done, d.Total, recordsSinceLog, loss, start, lastLog, now)
			lastLog, logged, recordsSinceLog = now, t.State.Iteration, 0
		}
		r.State, r.Elapsed = t.State, now.Sub(start).Seconds()
		d.Resume = r
		if stop {
			d.Stopped = true
			break
		}
	}
	if err := t.averageExtrasOverTasks(); err != nil {
		return err
	}
	t.saveStreams(&d.Resume)
	return nil
}

// averageExtrasOverTasks averages the running statistics over the tasks at
// the end of a segment, so the tasks validate, and the driver receives, the
// same ones. Each task moved its own towards the statistics of its shares
// of the batches; the update being linear in them, averaging once per
// segment equals averaging after every step.
func (t *Trainer) averageExtrasOverTasks() error {
	s, v := t.Dist.Sync, t.workers[0].extra
	if s.Ranks() < 2 || len(v) == 0 {
		return nil
	}
	lo, hi, err := s.ReduceScatter(v, nil)
	if err != nil {
		return fmt.Errorf("averaging the running statistics: %w", err)
	}
	kernels.Scale(1/float32(s.Ranks()), v[lo:hi])
	if err := s.AllGather(v); err != nil {
		return fmt.Errorf("averaging the running statistics: %w", err)
	}
	return nil
}

// Dropout streams. A task is a process of Spark's choosing, a new one for
// each segment or re-run, so the streams its masks come from travel with
// the run: the first segment starts where a local run would (rank 0 from
// the driver's global generator, each other rank from a stream of its
// own), and each segment ends by saving where they are in Resume. With one
// partition and the same cores the masks are those of local training, and
// a segment that Spark re-runs draws the same masks again.

// startGlobal points this process's global generator, which one worker
// draws masks from and prepare draws worker streams from, at the run's.
func (d *Distributed) startGlobal(rank int) error {
	s := d.Resume.Global
	if s == nil {
		s = d.RNG
	}
	if s == nil {
		return nil
	}
	if err := rng.Global.SetState(*s); err != nil {
		return fmt.Errorf("distributed training: dropout stream: %w", err)
	}
	if d.Resume.Global == nil && rank > 0 {
		rng.Global.Seed(rankSeed(rng.Global.Uint32(), rank))
	}
	return nil
}

// rankSeed derives rank's seed from a seed the ranks share: rank 0 keeps
// it, so one task trains as a local run does; the others are spread by the
// golden ratio, so no two ranks share a stream.
func rankSeed(seed uint32, rank int) uint32 { return seed + uint32(rank)*0x9E3779B9 }

// resumeWorkerStreams puts the workers' streams where the last segment left
// them (prepare drew new ones).
func (t *Trainer) resumeWorkerStreams() error {
	saved := t.Dist.Resume.Workers
	if len(saved) == 0 || t.workers[0].rng == nil {
		return nil
	}
	if len(saved) != len(t.workers) {
		return fmt.Errorf("distributed training: %d workers resume the Dropout streams of %d", len(t.workers), len(saved))
	}
	for i, w := range t.workers {
		if err := w.rng.SetState(saved[i]); err != nil {
			return fmt.Errorf("distributed training: dropout stream of worker %d: %w", i, err)
		}
	}
	return nil
}

func (t *Trainer) saveStreams(r *Resume) {
	g := rng.Global.State()
	r.Global, r.Workers = &g, r.Workers[:0]
	for _, w := range t.workers {
		if w.rng != nil {
			r.Workers = append(r.Workers, w.rng.State())
		}
	}
}

// shardMethod points per-parameter settings (SGD's learningrates and
// weightdecays) at the shard [lo, hi) of n parameters a task updates.
func shardMethod(m Method, lo, hi, n int) error {
	if p, ok := m.(*PerModule); ok {
		return p.shard(lo, hi, n)
	}
	s, ok := m.(*SGD)
	if !ok {
		return nil
	}
	for _, v := range []*[]float32{&s.LRs, &s.WeightDecays} {
		if *v == nil {
			continue
		}
		if len(*v) != n {
			return fmt.Errorf("SGD: learningrates/weightdecays have %d values but the model has %d parameters; "+
				"distributed training needs one per parameter", len(*v), n)
		}
		*v = (*v)[lo:hi]
	}
	return nil
}

// syncStep finishes an iteration of a distributed run with more than one
// task, after this task's workers computed gradients on parts records
// groups. The global normaliser is not known until the sums arrive, so each
// task sends its gradients weighted by their own normalisers, the owner of
// a shard divides the sum by the global one, and the normalisers and loss
// travel with the gradients: one exchange each way for the gradients, one
// for the weights.
func (t *Trainer) syncStep(parts int) (float64, error) {
	ws, s := t.workers, t.Dist.Sync
	if parts == 0 {
		clear(t.grads)
	}
	sums := t.scalars[:]
	sums[0], sums[1] = 0, 0
	for i := 0; i < parts; i++ {
		if ws[i].averaged {
			sums[0] += ws[i].norm
			sums[1] += ws[i].norm * ws[i].loss
		} else {
			sums[1] += ws[i].loss
		}
	}
	t.sumGrads(parts, 1) // a total of 1 weights each part by its own normaliser
	lo, hi, err := s.ReduceScatter(t.grads, sums)
	if err != nil {
		return 0, err
	}
	total, loss := sums[0], sums[1]
	if total > 0 {
		loss /= total
		kernels.Scale(float32(1/total), t.grads[lo:hi])
	}
	t.regularize(lo, hi)
	if err := t.clip(lo, hi); err != nil {
		return 0, err
	}
	t.observeStep(loss)
	if _, ok := t.Method.(wholeVector); ok {
		// Every task gathers the whole gradient and takes the same step.
		if err := s.AllGather(t.grads); err != nil {
			return 0, err
		}
		t.Method.Update(t.weights, t.grads)
		return loss, nil
	}
	t.Method.Update(t.weights[lo:hi], t.grads[lo:hi])
	if err := s.AllGather(t.weights); err != nil {
		return 0, err
	}
	return loss, nil
}
