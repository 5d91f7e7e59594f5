package mem

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
)

// sources are the kernel files available reads, opened once and re-read
// from offset 0 on each call (procfs and cgroupfs regenerate their text on
// such a read), so a check allocates nothing.
var sources struct {
	once                  sync.Once
	meminfo, limit, usage *os.File // limit and usage: nil without a cgroup memory limit
	mu                    sync.Mutex
	buf                   [4096]byte // one buffer, so that a check allocates nothing even under -race
}

// available is MemAvailable plus SwapFree from /proc/meminfo, capped by the
// room left under the process's cgroup memory limit (v2 or v1), which is
// what bounds a Spark executor in a container or under YARN.
func available() (uint64, bool) {
	sources.once.Do(openSources)
	if sources.meminfo == nil {
		return 0, false
	}
	sources.mu.Lock()
	defer sources.mu.Unlock()
	buf := &sources.buf
	n, _ := sources.meminfo.ReadAt(buf[:], 0)
	avail, ok := meminfoField(buf[:n], "MemAvailable:")
	if !ok {
		return 0, false
	}
	swap, _ := meminfoField(buf[:n], "SwapFree:")
	avail += swap
	if sources.limit != nil {
		limit, ok1 := readNumber(sources.limit, buf[:])
		usage, ok2 := readNumber(sources.usage, buf[:])
		if ok1 && ok2 && limit < noLimit {
			avail = min(avail, limit-min(usage, limit))
		}
	}
	return avail, true
}

// noLimit and above mean no limit: v2's "max", or v1's page-rounded MaxInt64.
const noLimit = 1 << 62

// meminfoField is the value of a /proc/meminfo line such as
// "MemAvailable:   23584280 kB", in bytes.
func meminfoField(text []byte, key string) (uint64, bool) {
	i := bytes.Index(text, []byte(key))
	if i < 0 {
		return 0, false
	}
	v := bytes.TrimLeft(text[i+len(key):], " ")
	var kb uint64
	digits := 0
	for ; digits < len(v) && v[digits] >= '0' && v[digits] <= '9'; digits++ {
		kb = kb*10 + uint64(v[digits]-'0')
	}
	return kb << 10, digits > 0
}

func readNumber(f *os.File, buf []byte) (uint64, bool) {
	n, _ := f.ReadAt(buf, 0)
	s := bytes.TrimSpace(buf[:n])
	if string(s) == "max" {
		return noLimit, true
	}
	var v uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, len(s) > 0
}

func openSources() {
	sources.meminfo, _ = os.Open("/proc/meminfo")
	if dir, limit, usage, ok := cgroupFiles(); ok {
		l, err1 := os.Open(dir + "/" + limit)
		u, err2 := os.Open(dir + "/" + usage)
		if err1 == nil && err2 == nil {
			sources.limit, sources.usage = l, u
		}
	}
}

// cgroupFiles finds the process's memory cgroup (v2 unified, or v1's memory
// controller) and its limit and usage files, when a limit is set.
func cgroupFiles() (dir, limit, usage string, ok bool) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", "", "", false
	}
	for _, line := range strings.Split(string(bytes.TrimSpace(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "": // v2
			if dir, ok := limitedDir("/sys/fs/cgroup", parts[2], "memory.max"); ok {
				return dir, "memory.max", "memory.current", true
			}
		case strings.Contains(","+parts[1]+",", ",memory,"): // v1
			if dir, ok := limitedDir("/sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes"); ok {
				return dir, "memory.limit_in_bytes", "memory.usage_in_bytes", true
			}
		}
	}
	return "", "", "", false
}

// limitedDir is the cgroup's directory if its limit file sets a limit: the
// cgroup's own path under the mount, or inside a cgroup namespace, where
// that path is not there, the mount's root, which is then its own cgroup.
func limitedDir(root, path, limitFile string) (string, bool) {
	for _, dir := range []string{root + path, root} {
		b, err := os.ReadFile(dir + "/" + limitFile)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if v, err := strconv.ParseUint(s, 10, 64); err == nil && v < noLimit {
			return dir, true
		}
		return "", false
	}
	return "", false
}
