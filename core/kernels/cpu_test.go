package kernels

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// TestMain lets the whole package's tests run as on a CPU without some
// features: BIGDL_TEST_CPU_WITHOUT=AVX512F makes an AVX-512 machine test
// what an AVX2-only one would (which sets run, which are skipped and why).
func TestMain(m *testing.M) {
	if without := os.Getenv("BIGDL_TEST_CPU_WITHOUT"); without != "" {
		fake := cpuid.CPU
		for _, name := range strings.Split(without, ",") {
			f := cpuid.ParseFeature(strings.TrimSpace(name))
			if f == cpuid.UNKNOWN {
				fmt.Fprintf(os.Stderr, "BIGDL_TEST_CPU_WITHOUT: no CPU feature %q\n", name)
				os.Exit(2)
			}
			fake.Disable(f)
		}
		cpu = &fake
		choose(os.Getenv("BIGDL_KERNELS"))
	}
	os.Exit(m.Run())
}

// skipUnlessRuns skips t, naming the missing CPU features, when this CPU
// cannot run ks. Every test that executes a set's code directly (not through
// Force, which checks the same) calls it first: on a CPU without the set's
// instructions the test would die with SIGILL and take the package with it.
func skipUnlessRuns(t testing.TB, ks *kernelSet) {
	t.Helper()
	if why := whyCannotRun(ks); why != "" {
		t.Skip(why)
	}
}

// whyCannotRun is skipUnlessRuns's message, or empty when this CPU runs ks.
func whyCannotRun(ks *kernelSet) string {
	if missing := ks.missing(); len(missing) > 0 {
		return "kernel set " + ks.name + " skipped: this CPU lacks " + strings.Join(missing, ", ")
	}
	return ""
}

// fakeCPU makes the kernels see this CPU without the given features until
// the test ends, as a CPU that lacks them would look.
func fakeCPU(t *testing.T, without ...cpuid.FeatureID) {
	fake := cpuid.CPU
	fake.Disable(without...)
	prev := cpu
	cpu = &fake
	t.Cleanup(func() { cpu = prev })
}

// TestSkipsNameTheMissingFeature checks the skip helper on a faked CPU
// without AVX-512F: every set that needs it is skipped, with a message that
// names AVX512F, and is no longer offered by Available; Force refuses it the
// same way, and BIGDL_KERNELS naming it falls back with a reason.
func TestSkipsNameTheMissingFeature(t *testing.T) {
	fakeCPU(t, cpuid.AVX512F)
	needsAVX512 := 0
	for _, name := range All() {
		ks := sets[name]
		lacks := false
		for _, f := range ks.needs {
			lacks = lacks || f == cpuid.AVX512F
		}
		if !lacks {
			continue
		}
		needsAVX512++
		ran := false
		skipped := t.Run("faked/"+name, func(t *testing.T) {
			skipUnlessRuns(t, ks)
			ran = true
		})
		if ran || !skipped {
			t.Errorf("%s ran on a CPU without AVX512F", name)
		}
		if why := whyCannotRun(ks); !strings.Contains(why, "AVX512F") || !strings.Contains(why, name) {
			t.Errorf("%s: skip message %q does not name the set and AVX512F", name, why)
		}
		for _, avail := range Available() {
			if avail == name {
				t.Errorf("Available() offers %s on a CPU without AVX512F", name)
			}
		}
		if _, err := Force(name); err == nil || !strings.Contains(err.Error(), "AVX512F") {
			t.Errorf("Force(%s) on a CPU without AVX512F: %v, want an error naming AVX512F", name, err)
		}
		prev, prevName, prevRefused := active, Active, Refused
		choose(name)
		if active.name == name || !strings.Contains(Refused, "lacks AVX512F") {
			t.Errorf("BIGDL_KERNELS=%s on a CPU without AVX512F chose %s, Refused %q", name, active.name, Refused)
		}
		active, Active, Refused = prev, prevName, prevRefused
	}
	if _, ok := sets["avx512"]; ok && needsAVX512 == 0 {
		t.Error("no kernel set declares that it needs AVX512F")
	}
	// The generic set needs nothing, so it is never skipped.
	if why := whyCannotRun(genericSet); why != "" {
		t.Errorf("generic skipped on a faked CPU: %s", why)
	}
}

// TestEverySetThisCPURunsIsTested lists, in the test log, which sets this
// run exercises and which it skips and why; it fails if a set that needs
// nothing this CPU lacks were left out of allPaths, the list the GEMM and
// vector tests walk.
func TestEverySetThisCPURunsIsTested(t *testing.T) {
	for _, name := range All() {
		if why := whyCannotRun(sets[name]); why != "" {
			t.Log(why)
			continue
		}
		if !contains(allPaths, name) {
			t.Errorf("kernel set %s runs here but is not in allPaths, so no GEMM test covers it", name)
		}
		t.Logf("kernel set %s: tested", name)
	}
	t.Logf("CPU: %s; default kernels: %s", cpuid.CPU.BrandName, Active)
}
