package kernels

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// The SIMD kernels are only fast if the compiler keeps them in registers and
// away from legacy SSE, and neither is visible in the source: a harmless-
// looking edit can add a spill (5×32 and 6×32 blocks run at a quarter of
// the speed for that reason) or a scalar float operation. This test reads
// the compiler's own assembly listing (go build -gcflags=-S, which, unlike
// go tool objdump, decodes AVX-512) and checks:
//   - the micro-kernels' inner loops touch no stack slot (no spills);
//   - no SIMD function runs a legacy SSE instruction while the upper halves
//     of the vector registers are dirty (they stall on this CPU family:
//     Sgemm ran at half speed until kernels ended with VZEROUPPER);
//   - every return from a SIMD function follows a VZEROUPPER.

// microKernelNames are the functions whose inner loop must not spill.
// The Go-assembly functions (the kernels and packs in the *_amd64.s files)
// are exempt: they are not in the compiler's listing and their register
// use is written out by hand (no spills possible). TestAsmUpperState reads
// their source for the upper-state rule.
var microKernelNames = []string{"kernel3x48AVX512", "kernel4x16AVX2", "kernelDot2x4AVX512", "kernelDot2x4AVX2"}

type asmInst struct {
	pc   int
	op   string
	args string
	pos  string
}

func TestSIMDCodegen(t *testing.T) {
	if _, ok := sets["avx512"]; !ok {
		t.Skip("built without GOEXPERIMENT=simd: no SIMD kernels to inspect")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goTool, "build", "-gcflags=-S", "-o", os.DevNull, ".")
	cmd.Env = append(os.Environ(), "GOEXPERIMENT=simd")
	out, err := cmd.CombinedOutput()
	if err != nil {
		// CI has the toolchain, so there a missing listing is a failure, not a reason to skip.
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot get the assembly listing (%v): %.500s", err, out)
		}
		t.Skipf("cannot get the assembly listing (%v): %.500s", err, out)
	}
	funcs := parseListing(out)
	for _, name := range microKernelNames {
		insts, ok := funcs[name]
		if !ok {
			t.Errorf("%s is not in the assembly listing", name)
			continue
		}
		loop := innerLoop(insts)
		if loop == nil {
			t.Errorf("%s: found no loop with FMAs in the listing", name)
			continue
		}
		var spills, fmas, moves int
		for _, in := range loop {
			switch {
			case strings.Contains(in.args, "(SP)"):
				spills++
				t.Errorf("%s: stack access in the inner loop: %s %s (%s)", name, in.op, in.args, in.pos)
			case strings.HasPrefix(in.op, "VFMADD"):
				fmas++
			case strings.HasPrefix(in.op, "VMOVDQU") && regOnly.MatchString(in.args):
				moves++
			}
		}
		t.Logf("%s inner loop: %d instructions, %d FMAs, %d register moves, %d stack accesses",
			name, len(loop), fmas, moves, spills)
	}
	for name, insts := range funcs {
		if !strings.HasSuffix(name, "AVX512") && !strings.HasSuffix(name, "AVX2") {
			continue
		}
		checkUpperState(t, name, insts)
	}
}

var (
	funcHeader = regexp.MustCompile(`^\S+\.(\w+) STEXT`)
	instLine   = regexp.MustCompile(`^\t0x[0-9a-f]+ (\d+) \(([^)]*)\)\t(\S+)\t?(.*)$`)
	regOnly    = regexp.MustCompile(`^[XYZ]\d+, [XYZ]\d+$`)
	xmmReg     = regexp.MustCompile(`\bX\d+\b`)
	wideReg    = regexp.MustCompile(`\b[YZ]\d+\b`)
)

// parseListing maps each function of this package to its instructions.
func parseListing(listing []byte) map[string][]asmInst {
	funcs := map[string][]asmInst{}
	var cur string
	sc := bufio.NewScanner(bytes.NewReader(listing))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := funcHeader.FindStringSubmatch(line); m != nil {
			cur = m[1]
			continue
		}
		if cur == "" {
			continue
		}
		if m := instLine.FindStringSubmatch(line); m != nil {
			pc, _ := strconv.Atoi(m[1])
			funcs[cur] = append(funcs[cur], asmInst{pc: pc, pos: filepath.Base(m[2]), op: m[3], args: m[4]})
		}
	}
	return funcs
}

// innerLoop returns the smallest loop (from the target of a backward jump
// to the jump) that contains an FMA: the kernel's inner loop. Larger
// "loops" are the stack-growth path jumping back to the function's start.
func innerLoop(insts []asmInst) []asmInst {
	var best []asmInst
	for i, in := range insts {
		if !strings.HasPrefix(in.op, "J") {
			continue
		}
		target, err := strconv.Atoi(strings.TrimSpace(in.args))
		if err != nil || target >= in.pc {
			continue
		}
		for j := range insts[:i] {
			if insts[j].pc < target {
				continue
			}
			loop := insts[j : i+1]
			hasFMA := false
			for _, x := range loop {
				hasFMA = hasFMA || strings.HasPrefix(x.op, "VFMADD")
			}
			if hasFMA && (best == nil || len(loop) < len(best)) {
				best = loop
			}
			break
		}
	}
	return best
}

// checkUpperState walks a function in layout order, tracking whether a
// 256/512-bit instruction has run since the last VZEROUPPER. The listing's
// order is not execution order, but these functions are straight loops with
// their exits at the end, which is what this approximation needs.
func checkUpperState(t *testing.T, name string, insts []asmInst) {
	dirty := false
	for _, in := range insts {
		switch {
		case in.op == "VZEROUPPER":
			dirty = false
		case strings.HasPrefix(in.op, "V") && wideReg.MatchString(in.args):
			dirty = true
		case in.op == "RET" && dirty:
			t.Errorf("%s returns with dirty upper vector state (no VZEROUPPER since the last wide instruction, %s)", name, in.pos)
		case dirty && !strings.HasPrefix(in.op, "V") && xmmReg.MatchString(in.args):
			t.Errorf("%s: legacy SSE %s %s while the upper state is dirty (%s)", name, in.op, in.args, in.pos)
		}
	}
}

// TestAsmUpperState applies the upper-state rule of TestSIMDCodegen to the
// Go-assembly files, read from source: every RET follows a VZEROUPPER, and
// no legacy SSE instruction runs while the upper halves are dirty.
func TestAsmUpperState(t *testing.T) {
	files, err := filepath.Glob("*_amd64.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no assembly files found (%v)", err)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// A file whose functions the parser missed would pass unread.
		funcs := parseAsmSource(file, src)
		if want := bytes.Count(src, []byte("\nTEXT ")); len(funcs) != want || want == 0 {
			t.Errorf("%s: read %d functions of %d TEXT directives", file, len(funcs), want)
		}
		for name, insts := range funcs {
			rets := 0
			for _, in := range insts {
				if in.op == "RET" {
					rets++
				}
			}
			if rets == 0 {
				t.Errorf("%s: found no RET in %s", file, name)
			}
			checkUpperState(t, name, insts)
		}
		t.Logf("%s: %d functions checked", file, len(funcs))
	}
}

var textDirective = regexp.MustCompile(`^TEXT\s+·(\w+)\(SB\)`)

// parseAsmSource maps each TEXT symbol of a Go-assembly file to its
// instructions in source order (labels and comments dropped), with the
// file's #define macros expanded, so that their bodies are checked too.
func parseAsmSource(file string, src []byte) map[string][]asmInst {
	funcs := map[string][]asmInst{}
	macros := map[string]asmMacro{}
	var cur string
	lines := strings.Split(string(src), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if c := strings.Index(line, "//"); c >= 0 {
			line = line[:c]
		}
		if strings.HasPrefix(line, "#define") {
			start := i
			for strings.HasSuffix(strings.TrimSpace(line), "\\") && i+1 < len(lines) {
				i++
				line = strings.TrimSuffix(strings.TrimSpace(line), "\\") + " " + lines[i]
			}
			if name, m, ok := parseMacro(line); ok {
				macros[name] = m
			} else {
				panic(fmt.Sprintf("%s:%d: a #define this test cannot read", file, start+1))
			}
			continue
		}
		if m := textDirective.FindStringSubmatch(line); m != nil {
			cur = m[1]
			continue
		}
		if cur == "" || !strings.HasPrefix(line, "\t") {
			continue // labels start in column 0
		}
		pos := fmt.Sprintf("%s:%d", file, i+1)
		for _, inst := range expandMacro(macros, strings.TrimSpace(line)) {
			op, args, _ := strings.Cut(strings.TrimSpace(inst), " ")
			if op != "" {
				funcs[cur] = append(funcs[cur], asmInst{pc: i + 1, op: op, args: strings.TrimSpace(args), pos: pos})
			}
		}
	}
	return funcs
}

// asmMacro is a #define: its parameters and its body's instructions.
type asmMacro struct {
	params []string
	body   []string
}

var macroHead = regexp.MustCompile(`^#define\s+(\w+)(?:\(([^)]*)\))?\s*(.*)$`)

func parseMacro(line string) (string, asmMacro, bool) {
	m := macroHead.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		return "", asmMacro{}, false
	}
	var params []string
	for _, p := range strings.Split(m[2], ",") {
		if p = strings.TrimSpace(p); p != "" {
			params = append(params, p)
		}
	}
	return m[1], asmMacro{params: params, body: strings.Split(m[3], ";")}, true
}

var macroCall = regexp.MustCompile(`^(\w+)(?:\((.*)\))?$`)

// expandMacro returns the instructions of one source line: the line itself,
// or the body of the macro it invokes with the arguments substituted for
// the parameters (whole words only; arguments may hold parenthesised
// addresses).
func expandMacro(macros map[string]asmMacro, line string) []string {
	m := macroCall.FindStringSubmatch(line)
	if m == nil {
		return []string{line}
	}
	mac, ok := macros[m[1]]
	if !ok {
		return []string{line}
	}
	args := splitMacroArgs(m[2])
	out := make([]string, 0, len(mac.body))
	for _, inst := range mac.body {
		for k, p := range mac.params {
			if k < len(args) {
				inst = regexp.MustCompile(`\b`+p+`\b`).ReplaceAllLiteralString(inst, args[k])
			}
		}
		out = append(out, inst)
	}
	return out
}

// splitMacroArgs splits a macro call's arguments at the commas outside
// parentheses.
func splitMacroArgs(s string) []string {
	var args []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				args = append(args, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if strings.TrimSpace(s) != "" {
		args = append(args, strings.TrimSpace(s[start:]))
	}
	return args
}

// The source check sees through macros: a legacy SSE store inside a macro
// body is found at the line that invokes it.
func TestParseAsmSourceExpandsMacros(t *testing.T) {
	src := []byte("#define STORE(x, off) \\\n\tMOVUPS x, off(DI); \\\n\tADDQ $16, DI\n" +
		"TEXT ·f(SB), NOSPLIT, $0\n\tVMOVUPS Z0, (DI)\n\tSTORE(X1, 16)\n\tVZEROUPPER\n\tRET\n")
	insts := parseAsmSource("f.s", src)["f"]
	var ops []string
	for _, in := range insts {
		ops = append(ops, in.op+" "+in.args)
	}
	want := []string{"VMOVUPS Z0, (DI)", "MOVUPS X1, 16(DI)", "ADDQ $16, DI", "VZEROUPPER ", "RET "}
	if strings.Join(ops, "|") != strings.Join(want, "|") {
		t.Fatalf("expanded to %q, want %q", ops, want)
	}
	if insts[1].pos != "f.s:6" {
		t.Errorf("a macro's instruction is reported at %s, want the invoking line f.s:6", insts[1].pos)
	}
}
