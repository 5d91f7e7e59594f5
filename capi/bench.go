package main

import (
	"fmt"
	"math/rand"
	"time"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/mem"
)

// benchGemm times kernels.Sgemm for bench/run.py, so our GEMM and numpy's
// are measured side by side in one process. Arguments: m, n, k, trans_b,
// threads, seconds (the least time to run). Returns {"gflops", "kernels"},
// and on one thread "cpu_gflops", the rate per second of the thread's CPU
// time.
func benchGemm(req *request) (response, error) {
	var dims [3]int
	for i, name := range []string{"m", "n", "k"} {
		v, err := argInt(req, name)
		if err != nil || v < 1 {
			return response{}, fmt.Errorf("bench_gemm: %s must be a positive integer", name)
		}
		dims[i] = v
	}
	m, n, k := dims[0], dims[1], dims[2]
	threads, err := argInt(req, "threads")
	if err != nil || threads < 1 {
		return response{}, fmt.Errorf("bench_gemm: threads must be a positive integer")
	}
	secs, _ := req.args["seconds"].(float64)
	transB := argBool(req, "trans_b")

	r := rand.New(rand.NewSource(1))
	// The operands come from mem.Floats, as a Linear's input, weights and
	// output do (tensors, Flatten's vector), so the product runs on the
	// pages a user's would: huge ones from 4 MiB on Linux.
	fill := func(n int) []float32 {
		s := mem.Floats(n)
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
		return s
	}
	a, b, c := fill(m*k), fill(k*n), mem.Floats(m*n)
	ldb := n
	if transB {
		ldb = k
	}
	prev := kernels.MaxThreads()
	kernels.SetMaxThreads(threads)
	defer kernels.SetMaxThreads(prev)
	run := func() { kernels.Sgemm(false, transB, m, n, k, 1, a, k, b, ldb, 0, c, n) }
	run()
	reps, start := 0, time.Now()
	cpu0, cpuOK := kernels.ThreadCPUTime()
	for reps < 3 || time.Since(start).Seconds() < secs {
		run()
		reps++
	}
	el := time.Since(start).Seconds()
	flops := 2 * float64(m) * float64(n) * float64(k) * float64(reps)
	result := map[string]any{"gflops": flops / el / 1e9, "kernels": kernels.Active}
	// On one thread the whole product runs on this one (a cgo call runs Go
	// on the caller's thread), so its CPU time gives the rate per second on
	// a CPU that a shared machine's load lowers far less than the clock's.
	if cpu1, ok := kernels.ThreadCPUTime(); ok && cpuOK && threads == 1 && cpu1 > cpu0 {
		result["cpu_gflops"] = flops / (cpu1 - cpu0).Seconds() / 1e9
	}
	return response{result: result}, nil
}
