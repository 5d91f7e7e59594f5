package kernels

// ConvGeom is the geometry of a 2-D convolution (or pooling) window over
// images of C channels, H×W pixels each, stored one after another (NCHW).
type ConvGeom struct {
	C, H, W    int // input channels and size
	KH, KW     int // kernel size
	DH, DW     int // strides
	PadT, PadL int // zeros before the first row and column
	DilH, DilW int // dilation (1: a dense kernel)
	OutH, OutW int // output size
}

// Im2col writes the patches of n images x into col, so that a convolution is
// one matrix product: row (c·KH + i)·KW + j of col, column img·OutH·OutW +
// oy·OutW + ox holds x[img, c, oy·DH − PadT + i·DilH, ox·DW − PadL + j·DilW]
// (zero outside the image). col has C·KH·KW rows of n·OutH·OutW values, so
// the images of one chunk of a batch share one product with the weights.
func Im2col(col, x []float32, n int, g *ConvGeom) {
	short := shortCopies()
	defer endShortCopies(short)
	ohw := g.OutH * g.OutW
	ld := n * ohw
	img := g.C * g.H * g.W
	for c := 0; c < g.C; c++ {
		for i := 0; i < g.KH; i++ {
			for j := 0; j < g.KW; j++ {
				row := col[((c*g.KH+i)*g.KW+j)*ld:]
				for s := 0; s < n; s++ {
					plane := x[s*img+c*g.H*g.W : s*img+(c+1)*g.H*g.W]
					dst := row[s*ohw : (s+1)*ohw]
					patchRow(dst, plane, g, i, j, short)
				}
			}
		}
	}
}

// patchRow fills dst (OutH·OutW values) with the pixels that kernel offset
// (i, j) reads from one plane.
func patchRow(dst, plane []float32, g *ConvGeom, i, j int, short bool) {
	// The output columns whose input column lies inside the image: a run
	// [lo, hi), so the loop over a row has no bounds test per pixel.
	off := j*g.DilW - g.PadL
	lo, hi := validRange(off, g.DW, g.W, g.OutW)
	for oy := 0; oy < g.OutH; oy++ {
		d := dst[oy*g.OutW : (oy+1)*g.OutW]
		iy := oy*g.DH - g.PadT + i*g.DilH
		if iy < 0 || iy >= g.H || lo >= hi {
			clear(d)
			continue
		}
		src := plane[iy*g.W : (iy+1)*g.W]
		if lo > 0 {
			clear(d[:lo])
		}
		switch {
		case g.DW == 1 && short && hi-lo <= 16:
			copy16(d[lo:hi], src[lo+off:hi+off])
		case g.DW == 1:
			copy(d[lo:hi], src[lo+off:hi+off])
		default:
			for ox, ix := lo, lo*g.DW+off; ox < hi; ox, ix = ox+1, ix+g.DW {
				d[ox] = src[ix]
			}
		}
		if hi < g.OutW {
			clear(d[hi:])
		}
	}
}

// validRange is the run of output positions o in [0, out) whose input
// position o·stride + off lies in [0, size).
func validRange(off, stride, size, out int) (lo, hi int) {
	lo = 0
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	hi = out
	if last := size - 1 - off; last < 0 {
		hi = 0
	} else if m := last/stride + 1; m < hi {
		hi = m
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// Col2im is Im2col's adjoint: it adds every value of col to the pixel of x
// it was read from (x is not cleared first).
func Col2im(x, col []float32, n int, g *ConvGeom) {
	ohw := g.OutH * g.OutW
	ld := n * ohw
	img := g.C * g.H * g.W
	for c := 0; c < g.C; c++ {
		for i := 0; i < g.KH; i++ {
			for j := 0; j < g.KW; j++ {
				row := col[((c*g.KH+i)*g.KW+j)*ld:]
				for s := 0; s < n; s++ {
					plane := x[s*img+c*g.H*g.W : s*img+(c+1)*g.H*g.W]
					addPatchRow(plane, row[s*ohw:(s+1)*ohw], g, i, j)
				}
			}
		}
	}
}

// addPatchRow is patchRow's adjoint: it adds src (OutH·OutW values) to the
// pixels of plane that kernel offset (i, j) reads.
func addPatchRow(plane, src []float32, g *ConvGeom, i, j int) {
	off := j*g.DilW - g.PadL
	lo, hi := validRange(off, g.DW, g.W, g.OutW)
	if lo >= hi {
		return
	}
	for oy := 0; oy < g.OutH; oy++ {
		iy := oy*g.DH - g.PadT + i*g.DilH
		if iy < 0 || iy >= g.H {
			continue
		}
		d := plane[iy*g.W : (iy+1)*g.W]
		r := src[oy*g.OutW : (oy+1)*g.OutW]
		if g.DW == 1 {
			Axpy(1, r[lo:hi], d[lo+off:hi+off])
		} else {
			for ox, ix := lo, lo*g.DW+off; ox < hi; ox, ix = ox+1, ix+g.DW {
				d[ix] += r[ox]
			}
		}
	}
}

// Wide reports whether the window slides by 1 with no padding or dilation,
// where Im2colWide and Col2imWide apply.
func (g *ConvGeom) Wide() bool {
	return g.DH == 1 && g.DW == 1 && g.PadT == 0 && g.PadL == 0 && g.DilH == 1 && g.DilW == 1
}

// Im2colWide is Im2col for a Wide window with output rows W values wide
// instead of OutW: then each kernel offset reads one contiguous run of an
// image, OutH·W values from (i, j), and a row of col is n copies instead of
// n·OutH short ones. The last W − OutW values of each output row are junk
// the caller discards (their output gradient must be zero). A run may read
// past its plane into the next; past the end of x it reads zeros.
func Im2colWide(col, x []float32, n int, g *ConvGeom) {
	span := g.OutH * g.W
	ld, plane := n*span, g.H*g.W
	for c := 0; c < g.C; c++ {
		for i := 0; i < g.KH; i++ {
			for j := 0; j < g.KW; j++ {
				row := col[((c*g.KH+i)*g.KW+j)*ld:]
				for s := 0; s < n; s++ {
					dst := row[s*span : (s+1)*span]
					k := copy(dst, x[min((s*g.C+c)*plane+i*g.W+j, len(x)):])
					clear(dst[k:])
				}
			}
		}
	}
}

// Col2imWide is Im2colWide's adjoint (added into x). The junk columns of
// col hold zeros when the output gradient's junk did, so the runs that
// overlap the next plane add nothing to it.
func Col2imWide(x, col []float32, n int, g *ConvGeom) {
	span := g.OutH * g.W
	ld, plane := n*span, g.H*g.W
	for c := 0; c < g.C; c++ {
		for i := 0; i < g.KH; i++ {
			for j := 0; j < g.KW; j++ {
				row := col[((c*g.KH+i)*g.KW+j)*ld:]
				for s := 0; s < n; s++ {
					at := (s*g.C+c)*plane + i*g.W + j
					dst := x[at:min(at+span, len(x))]
					Axpy(1, row[s*span:s*span+len(dst)], dst)
				}
			}
		}
	}
}
