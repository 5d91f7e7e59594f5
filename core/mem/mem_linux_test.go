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
