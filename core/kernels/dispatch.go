package kernels

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/klauspost/cpuid/v2"
)

// microKernel computes one MR×NR tile from packed panels:
//
//	acc[i][j] = Σ_{p<k} a[p·MR+i] · b[p·bStride/4 + j]
//	C[i][j]   = acc[i][j]                 if beta == 0 (C is not read)
//	C[i][j]   = acc[i][j] + beta·C[i][j]  otherwise
//
// k ≥ 1. bStride is the byte distance between consecutive rows of the B
// panel: NR·4 for a packed panel, or ldb·4 when B is read in place.
//
// beta arrives as its IEEE-754 bits (0 for both zeros) so that a SIMD kernel
// needs no scalar float instruction: Go compiles those to legacy SSE
// encodings, which are slow while the upper halves of the vector registers
// are dirty. For the same reason every SIMD kernel ends with
// archsimd.ClearAVXUpperBits (VZEROUPPER) before returning to Go code that
// uses SSE for float32 arithmetic.
type microKernel func(k int, a, b *float32, bStride uintptr, c *float32, ldc int, beta uint32)

// kernelSet is one code path: a micro-kernel with its register-block shape
// and cache-block sizes, and the elementwise helpers built for the same ISA.
type kernelSet struct {
	name string // what Force and BIGDL_KERNELS accept
	desc string // what Active reports
	// needs lists the CPU features the set's instructions use; the set runs
	// on a CPU that has them all (see supported and missing).
	needs []cpuid.FeatureID

	mr, nr     int // register block of the micro-kernel
	kc, mc, nc int // cache blocks: k per packed panel, rows of A per packed block, columns of B per packed block
	micro      microKernel
	// directMaxM is the largest row count for which an untransposed B is
	// read in place rather than packed (see gemmBlock).
	directMaxM int
	// packRows and packCols, if set, pack the slivers of an untransposed
	// and a transposed A for this set's mr (see packA).
	packRows, packCols aPacker
	// packBT, if set, transposes op(B) = Bᵀ into slivers btCols columns
	// at a time (16 if btCols is 0; see packB); nr must then be a multiple
	// of that.
	packBT bTransposer
	btCols int
	// packCopy, if set, packs full slivers of an untransposed B (see packB).
	packCopy bCopier

	// alt, if set, is a set with another register block that computes a
	// product instead of this one when it pads the product's m×n to fewer
	// tiles' worth of work (see forShape).
	alt *kernelSet

	// The NT path (driver_nt.go), used for A·Bᵀ when ntKernel is set.
	ntKernel   dotKernel
	ntKC, ntMC int // k per pass (B's four rows and A's two stay in L1), rows of A per block (in L2)
	// ntCost, if set, hands the packed path the NT products it computes
	// faster (see packedNTFaster); without it the dot kernel takes them all.
	ntCost *ntCostModel

	axpy         func(alpha float32, x, y []float32)
	scale        func(alpha float32, x []float32)
	add          func(dst, x []float32)
	mulAdd       func(dst, a, b []float32)
	scaleShift   func(dst, src []float32, a, b float32)
	shiftRows    func(dst, src []float32, rows, srcStride int, b float32)
	mulShift     func(dst, src, a, b []float32)
	relu         func(dst, src []float32)
	reluBackward func(dst, gradOut, input []float32)
	dot          func(x, y []float32) float32
	mul          func(dst, x, y []float32)
	sum          func(x []float32) float32
}

// sets holds every compiled-in kernel set by name. Each file adds its set
// from a package-level variable initialiser (register returns a dummy bool),
// because those all run before any init function, whatever the file order.
var sets = map[string]*kernelSet{}

func register(s *kernelSet) bool {
	sets[s.name] = s
	return true
}

// preference is the start-up order: the first supported set wins.
var preference = []string{"avx512", "avx512-asm8x48", "avx512-archsimd", "avx2", "avx2-asm4x24", "avx2-archsimd", "generic"}

// active is the kernel set behind Sgemm's packed driver and the vector helpers.
var active *kernelSet

// Refused says why BIGDL_KERNELS was not followed at start-up (it named an
// unknown set, or one this CPU cannot run), or is empty. The Python package
// logs it once as a warning, so a forced set that silently fell back does not
// pass unnoticed in a benchmark.
var Refused string

// cpu is the feature source of supported and missing; tests replace it with
// a copy whose flags they switch off, to act as a CPU that lacks them.
var cpu = &cpuid.CPU

func (s *kernelSet) supported() bool { return cpu.Supports(s.needs...) }

// missing names the features s needs that this CPU lacks (none: it runs s).
func (s *kernelSet) missing() []string {
	var out []string
	for _, f := range s.needs {
		if !cpu.Supports(f) {
			out = append(out, f.String())
		}
	}
	return out
}

func init() {
	choose(os.Getenv("BIGDL_KERNELS"))
}

// choose installs the requested set if it is usable, else the best one; an
// unusable request is noted in Refused and Active rather than failing the
// program.
func choose(request string) {
	request = strings.ToLower(strings.TrimSpace(request))
	Refused = ""
	if request != "" {
		if s, ok := sets[request]; ok && s.supported() {
			install(s)
			return
		}
	}
	install(sets[Available()[0]])
	if request == "" {
		return
	}
	why := fmt.Sprintf("this build has no kernel set %q (it has %s)", request, strings.Join(All(), ", "))
	if s, ok := sets[request]; ok {
		why = fmt.Sprintf("this CPU cannot run the %s kernels (it lacks %s)", request, strings.Join(s.missing(), ", "))
	}
	Refused = fmt.Sprintf("BIGDL_KERNELS=%s ignored: %s; using %s", request, why, Active)
	Active += fmt.Sprintf(" (BIGDL_KERNELS=%s is not available here)", request)
}

func install(s *kernelSet) {
	active, Active = s, s.desc
}

// All lists every kernel set compiled into this build, whether or not this
// CPU runs it: the preference order, then any others in name order.
func All() []string {
	var out []string
	for _, name := range preference {
		if _, ok := sets[name]; ok {
			out = append(out, name)
		}
	}
	var extra []string
	for name := range sets {
		if !contains(preference, name) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}

// CPUName is this CPU's model name, for test and benchmark reports.
func CPUName() string { return cpu.BrandName }

// Missing names the CPU features that set name needs and this CPU lacks:
// none for a set this CPU runs (or one not in this build; see All).
func Missing(name string) []string {
	if s, ok := sets[name]; ok {
		return s.missing()
	}
	return nil
}

// Available lists the kernel sets this build can run on this CPU, best first.
func Available() []string {
	var out []string
	for _, name := range All() {
		if sets[name].supported() {
			out = append(out, name)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Force switches every kernel (Sgemm and the vector helpers) to the named
// path: "avx512" (Go assembly), "avx512-asm8x48", "avx512-archsimd",
// "avx2" (Go assembly), "avx2-asm4x24", "avx2-archsimd" or "generic". It
// fails if the path is unknown, not compiled in (built without
// GOEXPERIMENT=simd), or not supported by this CPU. Not safe to call while
// kernels run on other goroutines.
func Force(path string) (restore func(), err error) {
	s, ok := sets[path]
	if !ok {
		return nil, fmt.Errorf("kernels: no kernel set %q in this build (have %s)", path, strings.Join(Available(), ", "))
	}
	if !s.supported() {
		return nil, fmt.Errorf("kernels: this CPU cannot run the %q kernels (it lacks %s)", path, strings.Join(s.missing(), ", "))
	}
	prevSet, prevName := active, Active
	install(s)
	return func() { active, Active = prevSet, prevName }, nil
}
