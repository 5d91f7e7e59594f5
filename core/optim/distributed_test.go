package optim

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bigdl-go/bigdl-go/core/dist"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

func group(t *testing.T, ranks int) []*dist.Comm {
	t.Helper()
	comms, err := dist.Group(ranks, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range comms {
			c.Close()
		}
	})
	return comms
}

// runSegments runs tr as one task until its end trigger, one segment per
// firing of stop, as the driver does.
func runSegments(t *testing.T, tr *Trainer, stop Trigger) int {
	t.Helper()
	segments := 0
	for {
		rng.Global.Seed(uint32(1000 + segments)) // what the task's process did in between is not ours
		tr.Dist.Stop = stop
		if err := tr.Run(); err != nil {
			t.Fatal(err)
		}
		segments++
		if !tr.Dist.Stopped || tr.End(&tr.Dist.Resume.State) {
			return segments
		}
	}
}

// One task trains exactly as the local loop does, Dropout masks included,
// also when the run is cut into segments (one per epoch) that resume the
// shuffled order and the Dropout streams. Between segments the global
// generator is disturbed, as another task in the same process would.
func TestOneTaskMatchesLocalTraining(t *testing.T) {
	for _, workers := range []int{1, 2} {
		local := weightsAfter(t, mlpTrainer(t, workers, true))

		tr := mlpTrainer(t, workers, true)
		seed := rng.Global.Uint32() // what Run draws for its shuffler
		driver := rng.Global.State()
		tr.Dist = &Distributed{Sync: group(t, 1)[0], Total: tr.X.Shape[0], Seed: seed, RNG: &driver}
		every, _ := NewTrigger(map[string]any{"class": "EveryEpoch"})
		if n := runSegments(t, tr, every); n != 3 {
			t.Fatalf("%d segments, want 3", n)
		}
		w, _ := nn.Flatten(tr.Model)
		for i := range local {
			if w[i] != local[i] {
				t.Fatalf("%d workers: weight %d is %v distributed, %v local", workers, i, w[i], local[i])
			}
		}
	}
}

func split(x *tensor.Tensor, lo, hi int) *tensor.Tensor { return rowSlice(x, lo, hi).Clone() }

// With the whole data set in every global batch (batch_size = records),
// tasks holding different partitions follow the local full-batch run up to
// rounding: the gradient weighting (class-weighted NLL) is exact.
func TestTasksComputeTheGlobalBatchGradient(t *testing.T) {
	for _, ranks := range []int{2, 3} {
		ref := mlpTrainer(t, 1, false)
		ref.BatchSize = ref.X.Shape[0]
		want := weightsAfter(t, ref)

		comms := group(t, ranks)
		trainers := make([]*Trainer, ranks)
		for r := range trainers {
			tr := mlpTrainer(t, 1, false)
			tr.BatchSize = tr.X.Shape[0]
			n := tr.X.Shape[0]
			lo, hi := Share(r, ranks, n) // each task's share of every batch is its partition
			tr.Dist = &Distributed{Sync: comms[r], Total: n, Seed: 7}
			tr.X, tr.Y = split(tr.X, lo, hi), split(tr.Y, lo, hi)
			trainers[r] = tr
		}
		runRanks(t, trainers)
		w0, _ := nn.Flatten(trainers[0].Model)
		for r := 1; r < ranks; r++ {
			w, _ := nn.Flatten(trainers[r].Model)
			for i := range w {
				if w[i] != w0[i] {
					t.Fatalf("ranks %d: task %d's weight %d differs from task 0's", ranks, r, i)
				}
			}
		}
		var diff, norm float64
		for i := range want {
			d := float64(want[i] - w0[i])
			diff, norm = diff+d*d, norm+float64(want[i])*float64(want[i])
		}
		if rel := math.Sqrt(diff / norm); rel > 1e-5 {
			t.Fatalf("ranks %d: relative difference %g from local full-batch training", ranks, rel)
		}
		if it := trainers[0].Dist.Resume.State.Iteration; it != 3 {
			t.Fatalf("%d iterations, want 3 (one per epoch)", it)
		}
	}
}

func TestDistributedStepDoesNotAllocate(t *testing.T) {
	comms := group(t, 2)
	trs := []*Trainer{mlpTrainer(t, 1, false), mlpTrainer(t, 1, false)}
	stop := make(chan struct{})
	for r, tr := range trs {
		tr.Dist = &Distributed{Sync: comms[r], Total: 256}
		if err := tr.prepare(); err != nil {
			t.Fatal(err)
		}
		defer tr.release()
	}
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := trs[1].step(idx); err != nil {
				return
			}
		}
	}()
	trs[0].step(idx)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := trs[0].step(idx); err != nil {
			t.Fatal(err)
		}
	})
	close(stop)
	comms[0].Close()
	<-done
	if allocs > 0 {
		t.Fatalf("%v allocations per distributed step, want 0", allocs)
	}
}

// BenchmarkDistributedStepMLP784 is one iteration of two tasks (one worker
// each, in one process, through shared memory and over loopback TCP)
// sharing a global batch of 128: the training loop of a 2-partition RDD
// without Spark around it.
func BenchmarkDistributedStepMLP784(b *testing.B) {
	for _, transport := range []string{dist.TransportAuto, dist.TransportTCP} {
		b.Run(transport, func(b *testing.B) { benchmarkDistributedStep(b, transport) })
	}
}

func benchmarkDistributedStep(b *testing.B, transport string) {
	comms, err := dist.Group(2, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		for _, c := range comms {
			c.Close()
		}
	}()
	for _, c := range comms {
		c.SetTransport(transport)
	}
	trs := []*Trainer{mlp784Task(b, comms[0]), mlp784Task(b, comms[1])}
	idx := firstRecords(64)
	done := make(chan error, 1) // rank 1 ends, its peer closed, even if rank 0 fails the benchmark
	go func() {
		for i := 0; i < b.N+1; i++ {
			if _, err := trs[1].step(idx); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	trs[0].step(idx)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := trs[0].step(idx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDistributedStepMLP784Processes is BenchmarkDistributedStepMLP784
// with rank 1 in a child process, as Spark's tasks are: each process's
// waits on the other are then waits on another process, as in a real run.
func BenchmarkDistributedStepMLP784Processes(b *testing.B) {
	for _, transport := range []string{dist.TransportAuto, dist.TransportTCP} {
		b.Run(transport, func(b *testing.B) { benchmarkDistributedStepProcesses(b, transport) })
	}
}

func benchmarkDistributedStepProcesses(b *testing.B, transport string) {
	c, err := dist.Listen("127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	secret := dist.NewSecret()
	c.SetSecret(secret)
	child := exec.Command(os.Args[0], "-test.run=^TestPeerProcess$", "-test.count=1")
	child.Env = append(os.Environ(), "BIGDL_TEST_PEER="+c.Addr(), "BIGDL_TEST_PEER_STEPS="+strconv.Itoa(b.N+1),
		"BIGDL_TEST_PEER_TRANSPORT="+transport, "BIGDL_TEST_PEER_SECRET="+hex.EncodeToString(secret))
	out, err := child.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	defer child.Wait()
	peer, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("reading the child's address: %v", err)
	}
	c.SetTransport(transport)
	if err := c.Connect(0, []string{c.Addr(), strings.TrimSpace(peer)}, 10*time.Second); err != nil {
		b.Fatal(err)
	}
	tr, idx := mlp784Task(b, c), firstRecords(64)
	if _, err := tr.step(idx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.step(idx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "records/s")
	if c.Transport() != map[string]string{dist.TransportAuto: "shm", dist.TransportTCP: "tcp"}[transport] {
		b.Fatalf("the ranks used %q", c.Transport())
	}
}

// TestPeerProcess is rank 1 of BenchmarkDistributedStepMLP784Processes,
// run in a child process; on its own it does nothing.
func TestPeerProcess(t *testing.T) {
	addr0 := os.Getenv("BIGDL_TEST_PEER")
	if addr0 == "" {
		t.Skip("the benchmark's child process")
	}
	steps, _ := strconv.Atoi(os.Getenv("BIGDL_TEST_PEER_STEPS"))
	c, err := dist.Listen("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	secret, _ := hex.DecodeString(os.Getenv("BIGDL_TEST_PEER_SECRET"))
	if err := c.SetSecret(secret); err != nil {
		t.Fatal(err)
	}
	fmt.Println(c.Addr())
	c.SetTransport(os.Getenv("BIGDL_TEST_PEER_TRANSPORT"))
	if err := c.Connect(1, []string{addr0, c.Addr()}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	tr, idx := mlp784Task(t, c), firstRecords(64)
	for range steps {
		if _, err := tr.step(idx); err != nil {
			t.Fatal(err)
		}
	}
}

// mlp784Task is one task, one worker, of a 2-task run of the 784 MLP over
// c, prepared to step; each step takes 64 records, half the global batch.
func mlp784Task(tb testing.TB, c *dist.Comm) *Trainer {
	tr := mlp784Trainer(tb, 1)
	tr.Dist = &Distributed{Sync: c, Total: 1024}
	if err := tr.prepare(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(tr.release)
	return tr
}

// runRanks runs every rank's trainer at once, as the tasks of one stage
// run, and fails the test on any rank's error.
func runRanks(t *testing.T, trainers []*Trainer) {
	t.Helper()
	errs := make([]error, len(trainers))
	var wg sync.WaitGroup
	for r, tr := range trainers {
		wg.Add(1)
		go func() { defer wg.Done(); errs[r] = tr.Run() }()
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
}
