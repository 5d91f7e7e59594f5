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
				off := j*g.DilW - g.PadL
				lo, hi := validRange(off, g.DW, g.W, g.OutW)
				if lo >= hi {
					continue
				}
				for s := 0; s < n; s++ {
					plane := x[s*img+c*g.H*g.W : s*img+(c+1)*g.H*g.W]
					src := row[s*ohw : (s+1)*ohw]
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
			}
		}
	}
}
