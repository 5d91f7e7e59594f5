package main

import (
	"math"
	"runtime"
	"testing"
)

// TestBenchGemmRatePerCPUSecond checks what bench/run.py --cpu-time reads:
// on one thread a rate per second of the thread's CPU time, which cannot
// be below the clock's rate (the thread cannot be on a CPU for longer than
// the products took), and on two threads none, as the caller's thread then
// does only part of the work.
func TestBenchGemmRatePerCPUSecond(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("thread CPU time is read on Linux only")
	}
	// A cgo call runs Go locked to the caller's thread; so must the test.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	args := map[string]any{"m": 64.0, "n": 64.0, "k": 64.0, "threads": 1.0, "seconds": 0.05}
	resp, err := benchGemm(&request{args: args})
	if err != nil {
		t.Fatal(err)
	}
	res := resp.result.(map[string]any)
	clock, cpu := res["gflops"].(float64), res["cpu_gflops"]
	if cpu == nil {
		t.Fatalf("one thread: no cpu_gflops in %v", res)
	}
	if r := cpu.(float64); math.IsNaN(r) || math.IsInf(r, 0) || r < clock*0.99 {
		t.Errorf("one thread: cpu_gflops %v against %v by the clock", r, clock)
	}
	args["threads"] = 2.0
	if resp, err = benchGemm(&request{args: args}); err != nil {
		t.Fatal(err)
	}
	if r, ok := resp.result.(map[string]any)["cpu_gflops"]; ok {
		t.Errorf("two threads: cpu_gflops %v, want none", r)
	}
}
