package kernels

// VolGeom is the geometry of a 3-D convolution window over volumes of C
// channels, T×H×W values each (NCTHW). Each depth (time) slice is an image
// whose window is Slice's; Slice.C is unused.
type VolGeom struct {
	C          int
	T, KT, DT  int // depth, kernel depth, depth stride
	PadF, OutT int // zero slices before the first; output depth
	Slice      ConvGeom
}

// Span is the output values per volume and channel: OutT·OutH·OutW.
func (g *VolGeom) Span() int { return g.OutT * g.Slice.OutH * g.Slice.OutW }

// Vol2col is Im2col in three dimensions: row ((c·KT + t)·KH + i)·KW + j of
// col, column s·Span + (ot·OutH + oy)·OutW + ox holds x[s, c, ot·DT − PadF
// + t, oy·DH − PadT + i, ox·DW − PadL + j] (zero outside the volume), so a
// 3-D convolution of a chunk of n volumes is one matrix product.
func Vol2col(col, x []float32, n int, g *VolGeom) {
	short := shortCopies()
	defer endShortCopies(short)
	g.eachSlice(n, func(cols []float32, at, i, j int) {
		if at < 0 {
			clear(cols)
			return
		}
		patchRow(cols, x[at:at+g.Slice.H*g.Slice.W], &g.Slice, i, j, short)
	}, col)
}

// Col2vol is Vol2col's adjoint: it adds every value of col to the element of
// x it was read from (x is not cleared first).
func Col2vol(x, col []float32, n int, g *VolGeom) {
	g.eachSlice(n, func(cols []float32, at, i, j int) {
		if at >= 0 {
			addPatchRow(x[at:at+g.Slice.H*g.Slice.W], cols, &g.Slice, i, j)
		}
	}, col)
}

// eachSlice calls f for every run of OutH·OutW columns of the unfolding col
// of n volumes: the output slice ot of volume s for kernel offset (c, t, i,
// j), with the offset at of the input slice it reads (-1 where that lies in
// the padding), and the slice's kernel offset (i, j).
func (g *VolGeom) eachSlice(n int, f func(cols []float32, at, i, j int), col []float32) {
	p := &g.Slice
	ohw, hw, span := p.OutH*p.OutW, p.H*p.W, g.Span()
	ld := n * span
	for c := 0; c < g.C; c++ {
		for t := 0; t < g.KT; t++ {
			for i := 0; i < p.KH; i++ {
				for j := 0; j < p.KW; j++ {
					row := col[(((c*g.KT+t)*p.KH+i)*p.KW+j)*ld:]
					for s := 0; s < n; s++ {
						for ot := 0; ot < g.OutT; ot++ {
							at := -1
							if it := ot*g.DT - g.PadF + t; it >= 0 && it < g.T {
								at = ((s*g.C+c)*g.T + it) * hw
							}
							f(row[s*span+ot*ohw:s*span+(ot+1)*ohw], at, i, j)
						}
					}
				}
			}
		}
	}
}
