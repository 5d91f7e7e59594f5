package mem

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
)

// vmFlags returns the VmFlags line of /proc/self/smaps for the mapping that
// holds address a.
func vmFlags(t *testing.T, a uintptr) string {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x", &lo, &hi); n == 2 && strings.Contains(strings.Fields(line)[0], "-") {
			in = lo <= a && a < hi
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return line
		}
	}
	t.Fatalf("no mapping in /proc/self/smaps holds %#x", a)
	return ""
}

// The kernel records MADV_HUGEPAGE as the mapping's "hg" flag, whatever huge
// pages it can find at the moment, so this checks the advice, not luck:
// over every whole huge page of the buffer (the tail past the last one gets
// one only when the allocation's slack completes it).
func TestFloatsLargeAreAdvisedHugePages(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err != nil {
		t.Skip("this kernel has no transparent huge pages")
	}
	big := Floats(HugeMin/4 + 12345)
	whole := uintptr(len(big)*4) &^ (hugeAlign - 1)
	for _, a := range []uintptr{addr(big), addr(big) + whole/2, addr(big) + whole - 4} {
		if flags := vmFlags(t, a); !strings.Contains(" "+flags+" ", " hg ") {
			t.Errorf("the mapping at %#x is not advised huge pages: %s", a, flags)
		}
	}
}

func TestAvailableReadsTheKernel(t *testing.T) {
	avail, ok := available()
	if !ok || avail < HugeMin || avail > 1<<50 {
		t.Fatalf("available() = %d, %v: want the bytes /proc/meminfo reports", avail, ok)
	}
}

// A cgroup limit caps what is available; "max" (v2) and v1's huge
// page-rounded default mean none.
func TestCgroupLimit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, v string) {
		if err := os.WriteFile(dir+"/"+name, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("memory.max", "1073741824")
	if got, ok := limitedDir(dir, "/missing", "memory.max"); !ok || got != dir {
		t.Errorf("a limit at the mount's root: %q, %v; want %q (the cgroup's own path is absent)", got, ok, dir)
	}
	for _, none := range []string{"max", "9223372036854771712"} {
		write("memory.max", none)
		if _, ok := limitedDir(dir, "", "memory.max"); ok {
			t.Errorf("%s must mean no limit", none)
		}
	}
	write("memory.current", " 268435456\n")
	f, err := os.Open(dir + "/memory.current")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf [64]byte
	if v, ok := readNumber(f, buf[:]); !ok || v != 256<<20 {
		t.Errorf("readNumber: %d, %v", v, ok)
	}
	text := []byte("MemTotal: 100 kB\nMemAvailable:   23584280 kB\nSwapFree: 0 kB\n")
	if v, ok := meminfoField(text, "MemAvailable:"); !ok || v != 23584280<<10 {
		t.Errorf("meminfoField: %d, %v", v, ok)
	}
}
