package optim

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/spin"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// ErrCancelled is returned by Run when Cancel stopped training.
var ErrCancelled = errors.New("training cancelled")

// Validation is what set_validation configured.
type Validation struct {
	Trigger   Trigger
	BatchSize int
	X, Y      *tensor.Tensor
	Methods   func() ([]ValMethod, error) // fresh accumulators for each run
	// Summary, when set, records each score under its method's name
	// (BigDL's ValidationSummary).
	Summary SummaryWriter
}

// Trainer runs BigDL's training loop: shuffle each epoch, step through
// mini-batches, update with the optim method, validate when the trigger
// fires, stop at the end trigger.
//
// Each mini-batch is split across Workers goroutines, each running a replica
// of the model that shares its weights but has its own gradients (as BigDL
// splits a batch across cores); their gradients are summed, weighted so the
// result equals the gradient of the whole batch, before one update.
type Trainer struct {
	Model      nn.Module
	Criterion  criterion.Criterion
	Method     Method
	End        Trigger
	BatchSize  int
	X, Y       *tensor.Tensor // all training records, first dimension the record
	Validation *Validation
	// Workers is how many goroutines share each mini-batch (0: GOMAXPROCS).
	// Small models use one: splitting them costs more than it saves.
	Workers int
	// Log receives progress lines (BigDL's format); LogInterval is the least
	// time between two iteration lines.
	Log         func(line string)
	LogInterval time.Duration

	// Dist, when set, makes Run one task of a distributed run (see Distributed).
	Dist *Distributed
	// Start, when set, makes a local Run continue from where a saved run
	// stood; Checkpoint, when set, saves the run when its trigger fires.
	Start      *Position
	Checkpoint *Checkpoint
	// Clip clips each mini-batch's gradient before the update.
	Clip Clipping
	// Summary, when set, records the loss, throughput, learning rate and
	// parameters as its triggers ask (BigDL's TrainSummary).
	Summary *TrainSummary

	State      State
	at         Position  // the local run's position after its last iteration, streams aside
	last       *Position // where the last run ended, streams included
	progress   progress  // State's epoch and iteration, for Progress
	cancelled  atomic.Bool
	scalars    [2]float64 // the distributed step's normaliser and loss sums
	normScalar [1]float64 // the distributed step's sum of squared gradients, for clipping

	weights, grads []float32
	regs           []nn.RegRange // the regularized ranges of weights
	workers        []*worker
	workersRunning sync.WaitGroup // release waits for them, so none outlives its run
	update         sharedUpdate
	poll           bool // workers poll between steps (see spinWait)
	restoreThreads func()
}

// minParallelFlops is the work per iteration (6·batch·parameters) below
// which a mini-batch is not split: handing work to another goroutine costs
// microseconds, as much as a small network's whole step.
const minParallelFlops = 2e6

// Cancel asks Run to stop after the current iteration.
func (t *Trainer) Cancel() { t.cancelled.Store(true) }

// Progress is where a run is. Unlike State, it may be read while Run runs,
// from any goroutine (Python polls it for its progress bar).
func (t *Trainer) Progress() Progress { return t.progress.load() }

// Progress is a run's position after its last finished iteration.
type Progress struct {
	Epoch, Iteration int
	EpochRecords     int     // records of the epoch in progress trained so far (all tasks')
	Loss             float64 // the last iteration's loss (0 before the first)
}

// progress is a seqlock over Progress, so that a reader never pairs one
// iteration's epoch with another's iteration; the loop publishes with
// atomic stores and no lock.
type progress struct {
	seq                       atomic.Uint64 // odd while a store is under way
	epoch, iteration, records atomic.Int64
	loss                      atomic.Uint64 // float64 bits
}

func (p *progress) store(s *State, epochRecords int) {
	p.seq.Add(1)
	p.epoch.Store(int64(s.Epoch))
	p.iteration.Store(int64(s.Iteration))
	p.records.Store(int64(epochRecords))
	p.loss.Store(math.Float64bits(s.Loss))
	p.seq.Add(1)
}

func (p *progress) load() Progress {
	for {
		seq := p.seq.Load()
		out := Progress{Epoch: int(p.epoch.Load()), Iteration: int(p.iteration.Load()),
			EpochRecords: int(p.records.Load()), Loss: math.Float64frombits(p.loss.Load())}
		if seq%2 == 0 && p.seq.Load() == seq {
			return out
		}
		runtime.Gosched()
	}
}

// CheckData refuses data sets the loop cannot train on. Features and labels
// may be tables, whose tensors all hold the same records.
func CheckData(what string, x, y *tensor.Tensor) error {
	if x == nil || x.Records() == 0 {
		return fmt.Errorf("%s is empty: it needs at least one record", what)
	}
	n := x.Records()
	if n < 0 {
		return fmt.Errorf("%s: the feature tensors %s hold different numbers of records (first dimension)", what, x.Describe())
	}
	if y == nil || y.Records() != n {
		if y != nil && y.Records() < 0 {
			return fmt.Errorf("%s: the label tensors %s hold different numbers of records (first dimension)", what, y.Describe())
		}
		return fmt.Errorf("%s has %d records but %d labels", what, n, firstDim(y))
	}
	for _, l := range x.Leaves() {
		if i := firstNonFinite(l.Data); i >= 0 {
			return fmt.Errorf("%s: the features of record %d hold %v (features must be finite numbers)", what, i/(l.Len()/n)+1, l.Data[i])
		}
	}
	for _, l := range y.Leaves() {
		if i := firstNonFinite(l.Data); i >= 0 {
			return fmt.Errorf("%s: the label of record %d holds %v (labels must be finite numbers)", what, i/(l.Len()/n)+1, l.Data[i])
		}
	}
	return nil
}

func firstDim(t *tensor.Tensor) int {
	if t == nil {
		return 0
	}
	return max(t.Records(), 0)
}

// firstNonFinite is the index of the first NaN or infinity in d, or -1. It
// checks a block at a time for an all-ones exponent, with no branch per
// value: a data set of 6.4M values took 10 ms with math.IsNaN and IsInf
// per value, checked twice at each optimize() start.
func firstNonFinite(d []float32) int {
	const exponent = 0x7f800000
	const block = 1024
	for lo := 0; lo < len(d); lo += block {
		part := d[lo:min(lo+block, len(d))]
		var carries uint32
		for _, v := range part {
			// (bits & exponent) + 0x00800000 carries into bit 31 only
			// when the exponent is all ones.
			carries |= math.Float32bits(v)&exponent + 0x00800000
		}
		if carries&0x80000000 != 0 {
			for i, v := range part {
				if math.Float32bits(v)&exponent == exponent {
					return lo + i
				}
			}
		}
	}
	return -1
}

// gather copies the records idx of src into dst, reusing dst's storage and
// shape slice so the training loop does not allocate. A table is gathered
// tensor by tensor, record-wise.
func gather(dst, src *tensor.Tensor, idx []int) *tensor.Tensor {
	if src.IsTable() {
		if dst == nil {
			dst = &tensor.Tensor{}
		}
		dst = tensor.EnsureTable(dst, len(src.Table))
		for i, e := range src.Table {
			dst.Table[i] = gather(dst.Table[i], e, idx)
		}
		return dst
	}
	per := src.Len() / src.Shape[0]
	if dst == nil {
		dst = &tensor.Tensor{}
	}
	dst.Shape = append(append(dst.Shape[:0], len(idx)), src.Shape[1:]...)
	n := len(idx) * per
	if cap(dst.Data) < n {
		dst.Data = make([]float32, n)
	}
	dst.Data = dst.Data[:n]
	for i, r := range idx {
		copy(dst.Data[i*per:(i+1)*per], src.Data[r*per:(r+1)*per])
	}
	return dst
}

func (t *Trainer) log(format string, args ...any) {
	if t.Log != nil {
		t.Log(fmt.Sprintf(format, args...))
	}
}

// Run trains until the end trigger fires, Cancel is called, or an error
// occurs. A panic in a layer becomes the returned error.
func (t *Trainer) Run() (err error) {
	if t.Dist != nil {
		return t.runDistributed()
	}
	// where names the step a panic interrupted; it is updated by assignment
	// only, so the loop does not allocate.
	where := struct {
		epoch, iteration int
		validating       bool
	}{}
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
		if err != nil && where.iteration > 0 && !errors.Is(err, ErrCancelled) {
			step := fmt.Sprintf("epoch %d, iteration %d", where.epoch, where.iteration)
			if where.validating {
				step = "validation after " + step
			}
			err = fmt.Errorf("training failed at %s: %w", step, err)
		}
	}()
	// The shuffling stream is drawn first, so it does not depend on how
	// many replicas prepare builds (building one draws initial weights).
	var seed uint32
	if t.Start != nil && !t.Start.CountersOnly {
		seed = t.Start.Seed
	} else { // a continued run's pass is a new shuffle, as its first was
		seed = rng.Global.Uint32()
	}
	shuffler := rng.New(seed)
	defer t.release() // also after a failed prepare: it may have started workers
	defer t.flushSummaries(&err)
	if err := t.prepare(); err != nil {
		return err
	}
	if err := checkStateFits(t.Method, len(t.weights)); err != nil {
		return err
	}
	n := t.X.Records()
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	t.at = Position{Seed: seed, Records: n, Resume: Resume{State: State{Epoch: 1}, Shuffles: 1}}
	if t.Start != nil {
		if err := t.resumeFrom(t.Start, n); err != nil {
			return err
		}
		t.at = *t.Start
		t.at.Global, t.at.Workers = nil, nil
		if t.Start.Tasks != nil || t.Start.CountersOnly {
			// A Spark run's tasks' places in their partitions mean nothing
			// here, and a run continued by optimize() starts a fresh pass
			// over the data: the counters go on, the epoch's records start
			// afresh.
			t.at = Position{Seed: seed, Records: n, Resume: Resume{State: t.Start.State, Shuffles: 1, Elapsed: t.Start.Elapsed}}
			if t.Start.Tasks != nil {
				t.log("continuing a Spark run's epoch %d, iteration %d locally: this epoch starts again from its first record",
					t.at.State.Epoch, t.at.State.Iteration)
			}
		}
	}
	for range t.at.Shuffles {
		shuffler.Shuffle(order)
	}
	defer func() {
		if err == nil || errors.Is(err, ErrCancelled) {
			t.last = t.snapshot() // before release hands the streams back
		}
	}()

	nn.SetTraining(t.Model, true)
	t.State = t.at.State
	t.progress.store(&t.State, t.at.Cursor)
	start := time.Now().Add(-time.Duration(t.at.Elapsed * float64(time.Second)))
	lastLog, logged := time.Now(), -1
	recordsSinceLog := 0
	pos := t.at.Cursor
	for !t.End(&t.State) {
		if t.cancelled.Load() {
			return ErrCancelled
		}
		where.epoch, where.iteration, where.validating = t.State.Epoch, t.State.Iteration+1, false
		hi := min(pos+t.BatchSize, n)
		rec := t.beginRecord(hi-pos, true)
		loss, err := t.checkedStep(order[pos:hi])
		if err != nil {
			return err
		}
		t.State.Iteration++
		t.State.Loss = loss
		if err := t.recordSummary(rec, loss); err != nil {
			return err
		}
		recordsSinceLog += hi - pos
		pos = hi
		epoch, done := t.State.Epoch, pos
		t.State.EpochEnded = pos == n
		if t.State.EpochEnded {
			t.State.Epoch++
			pos = 0
			shuffler.Shuffle(order)
			t.at.Shuffles++
		}
		t.progress.store(&t.State, pos)
		now := time.Now()
		if logged < 0 || now.Sub(lastLog) >= t.LogInterval || t.End(&t.State) {
			t.logProgress(epoch, done, n, recordsSinceLog, loss, start, lastLog, now)
			lastLog, logged, recordsSinceLog = now, t.State.Iteration, 0
		}
		if v := t.Validation; v != nil && v.Trigger(&t.State) {
			where.validating = true
			if err := t.validate(epoch, done, n, start); err != nil {
				return err
			}
			nn.SetTraining(t.Model, true)
		}
		t.at.State, t.at.Cursor, t.at.EpochRecords = t.State, pos, pos
		t.at.Elapsed = now.Sub(start).Seconds()
		if c := t.Checkpoint; c != nil && c.Trigger(&t.State) {
			if err := c.Save(t.snapshot()); err != nil {
				return fmt.Errorf("checkpoint after iteration %d: %w", t.State.Iteration, err)
			}
		}
	}
	return nil
}

// checkedStep is step, refusing a loss that is no longer a number.
func (t *Trainer) checkedStep(idx []int) (float64, error) {
	loss, err := t.step(idx)
	if err == nil && (math.IsNaN(loss) || math.IsInf(loss, 0)) {
		err = fmt.Errorf("the loss is %v: training diverged (try a smaller learning rate)", loss)
	}
	return loss, err
}

// logProgress writes BigDL's iteration line for the records trained since
// the last line (at lastLog).
func (t *Trainer) logProgress(epoch, done, total, records int, loss float64, start, lastLog, now time.Time) {
	secs := now.Sub(lastLog).Seconds()
	t.log("[Epoch %d %d/%d][Iteration %d][Wall Clock %.3fs] Trained %d records in %.4f seconds. Throughput is %.1f records/second. Loss is %s.",
		epoch, done, total, t.State.Iteration, now.Sub(start).Seconds(), records, secs,
		float64(records)/math.Max(secs, 1e-9), num(loss))
}

// prepare checks the configuration and data, flattens the parameters and
// starts the workers.
func (t *Trainer) prepare() error {
	if t.BatchSize <= 0 {
		return fmt.Errorf("batch_size must be a positive integer, got %d", t.BatchSize)
	}
	if err := CheckData("the training set", t.X, t.Y); err != nil {
		return err
	}
	if err := t.checkModelFits(); err != nil {
		return err
	}
	if err := t.checkScoreSource(); err != nil {
		return err
	}
	t.weights, t.grads = nn.Flatten(t.Model)
	t.regs = nn.RegRanges(t.Model)
	if t.Summary != nil {
		t.Summary.prepareParams(t.Model) // after Flatten: it moves the parameters
	}
	count := t.workerCount()
	t.limitKernelThreads(count)
	t.workers = make([]*worker, count)
	t.poll = count <= runtime.GOMAXPROCS(0)
	t.workers[0] = &worker{model: t.Model, crit: t.Criterion, grads: t.grads, extra: nn.FlattenExtraParams(t.Model)}
	for i := 1; i < count; i++ {
		m, grads, err := nn.Clone(t.Model)
		if err != nil {
			return err
		}
		c, err := criterion.Clone(t.Criterion)
		if err != nil {
			return err
		}
		// Buffered, so that neither side blocks handing over while the other polls.
		t.workers[i] = &worker{model: m, crit: c, grads: grads, extra: nn.FlattenExtraParams(m),
			start: make(chan []int, 1), done: make(chan struct{}, 1)}
		t.workersRunning.Add(1)
		go t.workers[i].loop(t, i, t.poll)
	}
	for _, w := range t.workers {
		nn.SetInputGradUnused(w.model, true)
		w.gradsOverwritten = nn.SetGradsOverwritten(w.model, true)
	}
	if count > 1 {
		// Each worker draws Dropout masks from its own stream, so a seeded
		// run does not depend on the order the workers happen to run in.
		for _, w := range t.workers {
			w.rng = rng.New(rng.Global.Uint32())
			nn.SetRNG(w.model, w.rng)
		}
	}
	return nil
}

// release stops the workers and hands the model back to the global generator.
// It returns once every worker goroutine has ended, so that none outlives
// its run: the next run's prepare rewrites the Trainer fields they read.
func (t *Trainer) release() {
	for _, w := range t.workers {
		if w != nil && w.start != nil {
			close(w.start)
		}
	}
	t.workersRunning.Wait()
	nn.SetRNG(t.Model, nil)
	nn.SetInputGradUnused(t.Model, false)
	nn.SetGradsOverwritten(t.Model, false)
	t.workers = nil
	if t.restoreThreads != nil {
		t.restoreThreads()
		t.restoreThreads = nil
	}
}

// limitKernelThreads shares the configured cores between the workers: each
// worker's matrix products may use cores/workers threads, so the run never
// uses more cores than it was given (BIGDL_CORE_NUMBER, spark.task.cpus).
func (t *Trainer) limitKernelThreads(workers int) {
	cores := t.Workers
	if cores <= 0 {
		cores = runtime.GOMAXPROCS(0)
	}
	prev := kernels.MaxThreads()
	kernels.SetMaxThreads(max(1, cores/workers))
	t.restoreThreads = func() { kernels.SetMaxThreads(prev) }
}

func (t *Trainer) workerCount() int {
	w := t.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	w = min(w, t.BatchSize)
	work := 6 * float64(t.BatchSize) * float64(len(t.weights))
	if t.X.Dims() == 3 && hasRecurrent(t.Model) {
		work *= float64(t.X.Shape[1]) // a recurrent layer applies its weights at every step
	}
	if work < minParallelFlops {
		w = 1
	}
	return max(w, 1)
}

func hasRecurrent(m nn.Module) bool {
	found := false
	nn.Walk(m, func(x nn.Module) {
		if _, ok := x.(*nn.Recurrent); ok {
			found = true
		}
	})
	return found
}

// checkModelFits runs one record through the model (in evaluation mode) so
// that a model that does not fit the data, or labels it cannot use, are
// refused before training starts, with the layer's own message.
func (t *Trainer) checkModelFits() error {
	check := func(what string, x, y *tensor.Tensor) (err error) {
		out, err := t.firstOutput(what, x)
		if err != nil {
			return err
		}
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("the %s does not suit the criterion: %w", what, panicError(r))
			}
		}()
		criterion.Check(t.Criterion, out, rowSlice(y, 0, 1))
		if c, ok := t.Criterion.(criterion.TargetChecker); ok && !out.IsTable() {
			if err := c.CheckTargets(y, out.Len()); err != nil {
				return fmt.Errorf("%s labels: %w", map[bool]string{true: "training", false: "validation"}[what == "training set"], err)
			}
		}
		return nil
	}
	if err := check("training set", t.X, t.Y); err != nil {
		return err
	}
	if v := t.Validation; v != nil {
		return check("validation set", v.X, v.Y)
	}
	return nil
}

// recordShape is the shape of one record of x, "(7,)", or for a table its
// tensors', "{(4,), (3,)}".
func recordShape(x *tensor.Tensor) string {
	if !x.IsTable() {
		return tensor.ShapeString(x.Shape[min(1, len(x.Shape)):])
	}
	parts := make([]string, len(x.Table))
	for i, e := range x.Table {
		parts[i] = recordShape(e)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// firstOutput is the model's output for the first record of x, or an error
// naming the records' shape when the model refuses them.
func (t *Trainer) firstOutput(what string, x *tensor.Tensor) (out *tensor.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the %s's records have shape %s, which the model refuses: %w",
				what, recordShape(x), panicError(r))
		}
	}()
	return Predict(t.Model, rowSlice(x, 0, 1), 1), nil
}

// step trains on the records idx: the workers compute gradients on equal
// parts, then the weighted sum updates the weights. It returns the batch loss.
func (t *Trainer) step(idx []int) (float64, error) {
	ws := t.workers
	parts := min(len(ws), len(idx))
	for i := 0; i < parts; i++ {
		lo, hi := i*len(idx)/parts, (i+1)*len(idx)/parts
		ws[i].idx = idx[lo:hi]
	}
	// Locally, the workers also share the update: each sums and updates one
	// range of the vector, so it does not run on one core while the others
	// wait. A distributed step sums locally, then syncs with its peers.
	// Clipping and a schedule reading the step's loss need the whole sum
	// before any range is updated, so they update after it, alone.
	shared, _ := t.Method.(rangeStepper)
	obs, _ := t.Method.(observer)
	if parts < 2 || t.Dist != nil || obs != nil && obs.needsLoss() || t.Clip.On() {
		shared = nil
	}
	t.update = sharedUpdate{method: shared, parts: parts}
	if shared != nil {
		if obs != nil {
			obs.observe(t.State)
		}
		shared.beginStep(len(t.weights))
	}
	// Nothing from here to worker 0's arrival in updateRange may panic: the
	// other workers would wait there for it forever, and release for them.
	// gather cannot (prepare checked the data), compute and updateRange
	// recover.
	for i := 1; i < parts; i++ {
		ws[i].gatherFrom(t.X, t.Y)
		ws[i].start <- ws[i].idx
	}
	if parts > 0 { // a distributed task's share of a batch can be empty
		ws[0].gatherFrom(t.X, t.Y)
		ws[0].compute()
		if shared != nil {
			t.updateRange(0)
		}
	}
	for i := 1; i < parts; i++ {
		receive(ws[i].done, t.poll)
	}
	for i := 0; i < parts; i++ {
		if err := cmp.Or(ws[i].err, ws[i].updateErr); err != nil {
			return 0, err
		}
	}
	t.averageExtras(parts)
	if t.Dist != nil && t.Dist.Sync.Ranks() > 1 {
		return t.syncStep(parts)
	}
	// Weight each part by its share of the batch's normaliser, so the sum
	// is exactly the whole batch's loss and gradient.
	total := t.batchNorm(parts)
	loss := 0.0
	for i := 0; i < parts; i++ {
		loss += ws[i].share(total) * ws[i].loss
	}
	if shared != nil {
		shared.endStep()
		return loss, nil
	}
	t.sumGrads(parts, total)
	t.regularize(0, len(t.grads))
	if err := t.clip(0, len(t.grads)); err != nil {
		return 0, err
	}
	t.observeStep(loss)
	t.Method.Update(t.weights, t.grads)
	return loss, nil
}

// averageExtras sets every replica's running statistics to the mean of
// those of the first parts replicas, which each moved them towards the
// statistics of their own share of the batch, so that all start the next
// step alike. The running update is linear in the batch statistics, so this
// is the update with the mean of the shares' statistics.
func (t *Trainer) averageExtras(parts int) {
	ws := t.workers
	avg := ws[0].extra
	if len(ws) < 2 || len(avg) == 0 || parts == 0 {
		return
	}
	for _, w := range ws[1:parts] {
		kernels.Axpy(1, w.extra, avg)
	}
	if parts > 1 {
		kernels.Scale(1/float32(parts), avg)
	}
	for _, w := range ws[1:] {
		copy(w.extra, avg)
	}
}

// observer is a method whose step depends on the training state (SGD with
// a Plateau schedule). needsLoss: it reads the step's own loss, so the
// step's update waits for the loss instead of being shared by the workers.
type observer interface {
	observe(s State)
	needsLoss() bool
}

// observeStep shows the method the state of the step about to update,
// whose loss is loss.
func (t *Trainer) observeStep(loss float64) {
	if obs, ok := t.Method.(observer); ok {
		st := t.State
		st.Loss = loss
		obs.observe(st)
	}
}

// batchNorm is the normaliser of the batch the first parts workers shared.
func (t *Trainer) batchNorm(parts int) float64 {
	var total float64
	for _, w := range t.workers[:parts] {
		total += w.norm
	}
	return total
}

// sumGrads adds the first parts workers' gradients into t.grads (worker 0's
// own buffer), each weighted by its share of total, the normaliser of the
// whole batch.
func (t *Trainer) sumGrads(parts int, total float64) {
	t.sumGradRange(parts, total, 0, len(t.grads))
}

func (t *Trainer) sumGradRange(parts int, total float64, lo, hi int) {
	for i, w := range t.workers[:parts] {
		scale := float32(w.share(total))
		if i == 0 {
			if scale != 1 {
				kernels.Scale(scale, t.grads[lo:hi])
			}
		} else {
			kernels.Axpy(scale, w.grads[lo:hi], t.grads[lo:hi])
		}
	}
}

// spinWait is how long a worker waiting for its next step, or the trainer
// waiting for a worker, polls before it blocks. A blocked goroutine's core
// goes idle, and on a VM the hypervisor halts an idle vCPU: waking it took
// 0.1 ms to several ms here, more than the gap between two steps.
const spinWait = time.Millisecond

// receive takes the next value from c; with poll, it polls c for up to
// spinWait first. ok is false once c is closed.
func receive[T any](c chan T, poll bool) (v T, ok bool) {
	if poll {
		p := spin.Poller{Goroutines: true}
		for {
			select {
			case v, ok = <-c:
				return v, ok
			default:
			}
			if d, checked := p.Waited(); checked && d > spinWait {
				break
			}
		}
	}
	v, ok = <-c
	return v, ok
}

// sharedUpdate is one step's update shared by its workers.
type sharedUpdate struct {
	method  rangeStepper // nil: the step's caller updates alone
	parts   int
	arrived atomic.Int32 // workers whose gradient is complete
}

// updateChunk is how many values a worker sums and updates at a time, so
// the summed gradient is still in L1 when the method reads it. A multiple
// of the SIMD width, so the split does not move elements between vector
// bodies and scalar tails (which would change their last bits).
const updateChunk = 2048

// updateRange is worker r's part of a shared update: once every worker's
// gradient is complete, it sums range r of them and updates it. A worker
// whose forward or backward failed still arrives, so none waits forever;
// the update is then skipped and the step returns the error.
func (t *Trainer) updateRange(r int) {
	u := &t.update
	u.arrived.Add(1)
	// The others are moments away: their parts are as large.
	p := spin.Poller{Goroutines: true}
	for u.arrived.Load() < int32(u.parts) {
		p.Waited()
	}
	ws := t.workers[:u.parts]
	for _, w := range ws {
		if w.err != nil {
			return
		}
	}
	defer func() {
		if p := recover(); p != nil {
			ws[r].updateErr = panicError(p)
		}
	}()
	n := len(t.weights)
	lo := r * n / u.parts / updateChunk * updateChunk
	hi := n
	if r+1 < u.parts {
		hi = (r + 1) * n / u.parts / updateChunk * updateChunk
	}
	total := t.batchNorm(u.parts)
	for c := lo; c < hi; c += updateChunk {
		e := min(c+updateChunk, hi)
		t.sumGradRange(u.parts, total, c, e)
		t.regularize(c, e)
		u.method.stepRange(t.weights, t.grads, c, e)
	}
}

// worker runs one replica of the model on its part of each mini-batch.
type worker struct {
	model  nn.Module
	crit   criterion.Criterion
	grads  []float32
	extra  []float32 // the replica's running statistics (nn.FlattenExtraParams)
	xb, yb *tensor.Tensor
	idx    []int
	rng    *rng.MT // its Dropout stream; nil: the global generator (one worker)

	gradsOverwritten bool // Backward writes grads, so compute need not clear them

	loss, norm float64
	averaged   bool
	err        error // from forward or backward
	updateErr  error // from its range of a shared update

	start chan []int
	done  chan struct{}
}

// share is the weight of this worker's loss and gradient in a batch whose
// normaliser is total; criteria that do not average are summed as they are.
func (w *worker) share(total float64) float64 {
	if !w.averaged {
		return 1
	}
	if total <= 0 {
		return 0
	}
	return w.norm / total
}

func (w *worker) gatherFrom(x, y *tensor.Tensor) {
	w.xb, w.yb = gather(w.xb, x, w.idx), gather(w.yb, y, w.idx)
}

// loop is worker r's goroutine, until release closes w.start. poll is
// passed rather than read from t, which the next run's prepare rewrites;
// the Trainer fields it does read (update, workers, weights) are written
// between steps, before w.start hands it the next one.
func (w *worker) loop(t *Trainer, r int, poll bool) {
	defer t.workersRunning.Done()
	for {
		if _, ok := receive(w.start, poll); !ok {
			return
		}
		w.compute()
		if t.update.method != nil {
			t.updateRange(r)
		}
		w.done <- struct{}{}
	}
}

// compute runs forward and backward on the worker's records; a panic becomes
// w.err, so no panic escapes a worker goroutine.
func (w *worker) compute() {
	w.err, w.updateErr = nil, nil
	defer func() {
		if r := recover(); r != nil {
			w.err = panicError(r)
		}
	}()
	out := nn.Forward(w.model, w.xb)
	criterion.Check(w.crit, out, w.yb)
	w.loss = w.crit.Forward(out, w.yb)
	w.norm, w.averaged = w.crit.Norm(out, w.yb)
	if !w.gradsOverwritten {
		clear(w.grads)
	}
	nn.Backward(w.model, w.xb, w.crit.Backward(out, w.yb))
}

// panicError keeps a panic's error value (and so a runtime.Error's type).
func panicError(r any) error {
	if e, ok := r.(error); ok {
		return e
	}
	return fmt.Errorf("%v", r)
}

func (t *Trainer) validate(epoch, done, n int, start time.Time) error {
	v := t.Validation
	methods, err := v.Methods()
	if err != nil {
		return err
	}
	results := Evaluate(t.Model, v.X, v.Y, v.BatchSize, methods)
	for i, r := range results {
		t.log("[Epoch %d %d/%d][Iteration %d][Wall Clock %.3fs] %s is %s",
			epoch, done, n, t.State.Iteration, time.Since(start).Seconds(), r.Method, r.Text)
		if i == 0 {
			t.State.Score, t.State.HasScore = r.Value, true
		}
		if v.Summary != nil {
			if err := v.Summary.Scalar(r.Method, float32(r.Value), int64(t.State.Iteration), wallSeconds(time.Now())); err != nil {
				return summaryError("validation", err)
			}
		}
	}
	return nil
}
