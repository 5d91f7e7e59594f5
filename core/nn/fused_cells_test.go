package nn

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/rng"
)

// A plain LSTM's steps run through kernels.LSTMForward and LSTMBackward,
// a GRU's through the kernels.GRURows kernels; the per-record kernel calls
// and loops they replace must give the same outputs, input gradient and
// parameter gradients, bit for bit, with and without dropout (which adds
// the LSTM's second bias and the GRU's mask of r·h) and on hidden sizes
// that end in partial vectors. The reference is the same cell with its
// sigmoid renamed, which sends it down the per-record path.
func TestFusedCellStepsMatchUnfused(t *testing.T) {
	type fusable interface {
		Module
		fused() bool
	}
	for _, class := range []string{"LSTM", "GRU"} {
		for _, h := range []int{5, 16, 19} {
			for _, p := range []float64{0, 0.3} {
				t.Run(fmt.Sprintf("%s/hidden=%d/p=%v", class, h, p), func(t *testing.T) {
					r := rand.New(rand.NewSource(int64(h)))
					build := func(fused bool) (*Recurrent, fusable) {
						rec := mustNew(t, "Recurrent", nil).(*Recurrent)
						cell := mustNew(t, class, map[string]any{"input_size": 6.0, "hidden_size": float64(h), "p": p}).(fusable)
						if !fused {
							switch c := cell.(type) {
							case *LSTM:
								c.inner.name = "sigmoid (per record)"
							case *GRU:
								c.inner.name = "sigmoid (per record)"
							}
						}
						if err := rec.Add(cell); err != nil {
							t.Fatal(err)
						}
						SetRNG(rec, rng.New(7))
						return rec, cell
					}
					fusedRec, fusedCell := build(true)
					refRec, refCell := build(false)
					if !fusedCell.fused() || refCell.fused() {
						t.Fatalf("fused() is %v and %v, want true and false", fusedCell.fused(), refCell.fused())
					}
					for i, q := range AllParams(fusedRec) {
						copy(AllParams(refRec)[i].Value.Data, q.Value.Data)
					}
					x, gy := randTensor(r, 3, 4, 6), randTensor(r, 3, 4, h)
					for round := 0; round < 2; round++ { // the second reuses every buffer
						got, want := slices.Clone(fusedRec.Forward(x).Data), slices.Clone(refRec.Forward(x).Data)
						requireSameBits(t, "output", got, want)
						gotGX, gotGrads := paramGrads(fusedRec, x, gy)
						wantGX, wantGrads := paramGrads(refRec, x, gy)
						requireSameBits(t, "input gradient", gotGX.Data, wantGX.Data)
						for i := range gotGrads {
							requireSameBits(t, AllParams(fusedRec)[i].Name+" gradient", gotGrads[i], wantGrads[i])
						}
					}
				})
			}
		}
	}
}

func requireSameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v, per-record path %v", what, i, got[i], want[i])
		}
	}
}
