// Package rng is the engine's random number generator: MT19937 as in Torch7,
// so that seeded weight initialisation and Dropout masks follow BigDL's
// stream (uniform(a, b) = a + (b-a)·u/2³², u the next 32-bit output).
package rng

import (
	"fmt"
	"math"
	"sync"
	"time"
)

const (
	n         = 624
	m         = 397
	matrixA   = 0x9908b0df
	upperMask = 0x80000000
	lowerMask = 0x7fffffff
)

// MT is one Mersenne Twister stream. It is not safe for concurrent use; the
// package-level Global is guarded by a mutex.
type MT struct {
	state       [n]uint32
	index       int
	normalValid bool
	normalX     float64
	normalRho   float64
}

// New returns a generator seeded with init_genrand(seed).
func New(seed uint32) *MT {
	g := &MT{}
	g.Seed(seed)
	return g
}

// Seed resets the stream with the reference init_genrand.
func (g *MT) Seed(seed uint32) {
	g.state[0] = seed
	for i := 1; i < n; i++ {
		prev := g.state[i-1]
		g.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	g.index = n
	g.normalValid = false
}

// Uint32 returns the next 32-bit output (genrand_int32).
func (g *MT) Uint32() uint32 {
	if g.index >= n {
		g.twist()
	}
	y := g.state[g.index]
	g.index++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

func (g *MT) twist() {
	for i := 0; i < n; i++ {
		y := (g.state[i] & upperMask) | (g.state[(i+1)%n] & lowerMask)
		next := g.state[(i+m)%n] ^ (y >> 1)
		if y&1 != 0 {
			next ^= matrixA
		}
		g.state[i] = next
	}
	g.index = 0
}

// Uniform draws from [a, b).
func (g *MT) Uniform(a, b float64) float64 {
	return a + (b-a)*float64(g.Uint32())/4294967296.0
}

// Normal draws from N(mean, stdv²) with Box–Muller, caching the second value
// of each pair as Torch7 does.
func (g *MT) Normal(mean, stdv float64) float64 {
	if !g.normalValid {
		g.normalX = g.Uniform(0, 1)
		g.normalRho = math.Sqrt(-2 * math.Log(1-g.Uniform(0, 1)))
		g.normalValid = true
		return g.normalRho*math.Cos(2*math.Pi*g.normalX)*stdv + mean
	}
	g.normalValid = false
	return g.normalRho*math.Sin(2*math.Pi*g.normalX)*stdv + mean
}

// Intn returns a uniform integer in [0, k).
func (g *MT) Intn(k int) int {
	return int(uint64(g.Uint32()) * uint64(k) >> 32)
}

// Shuffle permutes idx in place (Fisher–Yates).
func (g *MT) Shuffle(idx []int) {
	for i := len(idx) - 1; i > 0; i-- {
		j := g.Intn(i + 1)
		idx[i], idx[j] = idx[j], idx[i]
	}
}

// State is a generator's position in its stream, for carrying a stream
// from one process to another: a distributed run's segments run in tasks
// that may each start in another process.
type State struct {
	Words  []uint32  `json:"words"`
	Index  int       `json:"index"`
	Normal []float64 `json:"normal,omitempty"` // Normal's cached pair (x, rho), if it holds one
}

// State reports g's position.
func (g *MT) State() State {
	s := State{Words: append([]uint32(nil), g.state[:]...), Index: g.index}
	if g.normalValid {
		s.Normal = []float64{g.normalX, g.normalRho}
	}
	return s
}

// SetState moves g to a position State reported.
func (g *MT) SetState(s State) error {
	if len(s.Words) != n || s.Index < 0 || s.Index > n || (len(s.Normal) != 0 && len(s.Normal) != 2) {
		return fmt.Errorf("rng: a state needs %d words, an index in [0, %d] and 0 or 2 cached normals; got %d, %d, %d",
			n, n, len(s.Words), s.Index, len(s.Normal))
	}
	copy(g.state[:], s.Words)
	g.index = s.Index
	g.normalValid = len(s.Normal) == 2
	if g.normalValid {
		g.normalX, g.normalRho = s.Normal[0], s.Normal[1]
	}
	return nil
}

// Global is the engine-wide generator behind RNG().set_seed, Layer.set_seed,
// weight initialisation and Dropout. Unseeded, it starts from the clock, as
// Torch7 does.
var Global = &Locked{g: New(uint32(time.Now().UnixNano()))}

// Locked is a mutex-guarded generator.
type Locked struct {
	mu sync.Mutex
	g  *MT
}

// Seed reseeds the generator.
func (l *Locked) Seed(seed uint32) {
	l.mu.Lock()
	l.g.Seed(seed)
	l.mu.Unlock()
}

// Do runs f with exclusive use of the generator, so a caller drawing many
// values takes the lock once.
func (l *Locked) Do(f func(g *MT)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(l.g)
}

// Uint32 draws one value (used to seed per-run generators such as shuffling).
func (l *Locked) Uint32() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.g.Uint32()
}

// State reports the generator's position.
func (l *Locked) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.g.State()
}

// SetState moves the generator to a position State reported.
func (l *Locked) SetState(s State) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.g.SetState(s)
}
