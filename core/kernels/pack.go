package kernels

import "unsafe"

// Packing copies a block of op(A) or op(B) into the order the micro-kernel
// reads it, so the kernel never sees strides or transposition flags.
//
// A block of mb rows × kb columns of op(A) becomes ⌈mb/MR⌉ slivers of MR·kb
// values; sliver s holds, for each p, the MR values op(A)[s·MR+r][p] (times
// alpha), rows past mb being zero. A block of kb rows × nb columns of op(B)
// becomes ⌈nb/NR⌉ slivers of NR·kb values; sliver s holds, for each p, the
// NR values op(B)[p][s·NR+j], columns past nb being zero.
//
// Packing is a tenth to a quarter of Sgemm's time on the layer shapes, so
// the loops walk raw pointers (the bounds were checked once, by
// CheckGemmArgs) and the common register-block sizes get unrolled copies.

// f32 returns a pointer to s[i] without a bounds check.
func f32(s []float32, i int) unsafe.Pointer {
	return unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), i*4)
}

// packA packs op(A)[i0:i0+mb][p0:p0+kb] scaled by alpha into dst.
func packA(dst, a []float32, lda int, transA bool, i0, mb, p0, kb, mr int, alpha float32) {
	_ = dst[(mb+mr-1)/mr*mr*kb-1]
	for ir := 0; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		d := f32(dst, ir*kb)
		switch {
		case !transA && rows == 3 && mr == 3:
			packRows3(d, f32(a, (i0+ir)*lda+p0), lda, kb, alpha)
		case !transA && rows == 4 && mr == 4:
			packRows4(d, f32(a, (i0+ir)*lda+p0), lda, kb, alpha)
		case !transA && rows == 8 && mr == 8:
			packRows8(d, f32(a, (i0+ir)*lda+p0), lda, kb, alpha)
		case !transA && rows == 12 && mr == 12:
			packRows12(d, f32(a, (i0+ir)*lda+p0), lda, kb, alpha)
		case transA && rows == 8 && mr == 8:
			src := f32(a, p0*lda+i0+ir)
			for p := 0; p < kb; p++ {
				o := (*[8]float32)(unsafe.Add(d, p*32))
				v := (*[8]float32)(unsafe.Add(src, p*lda*4))
				o[0], o[1], o[2], o[3] = alpha*v[0], alpha*v[1], alpha*v[2], alpha*v[3]
				o[4], o[5], o[6], o[7] = alpha*v[4], alpha*v[5], alpha*v[6], alpha*v[7]
			}
		case transA && rows == 12 && mr == 12:
			src := f32(a, p0*lda+i0+ir)
			for p := 0; p < kb; p++ {
				o := (*[12]float32)(unsafe.Add(d, p*48))
				v := (*[12]float32)(unsafe.Add(src, p*lda*4))
				o[0], o[1], o[2], o[3] = alpha*v[0], alpha*v[1], alpha*v[2], alpha*v[3]
				o[4], o[5], o[6], o[7] = alpha*v[4], alpha*v[5], alpha*v[6], alpha*v[7]
				o[8], o[9], o[10], o[11] = alpha*v[8], alpha*v[9], alpha*v[10], alpha*v[11]
			}
		case transA && rows == 3 && mr == 3:
			src := f32(a, p0*lda+i0+ir)
			for p := 0; p < kb; p++ {
				o := (*[3]float32)(unsafe.Add(d, p*12))
				v := (*[3]float32)(unsafe.Add(src, p*lda*4))
				o[0], o[1], o[2] = alpha*v[0], alpha*v[1], alpha*v[2]
			}
		case transA && rows == 4 && mr == 4:
			src := f32(a, p0*lda+i0+ir)
			for p := 0; p < kb; p++ {
				o := (*[4]float32)(unsafe.Add(d, p*16))
				v := (*[4]float32)(unsafe.Add(src, p*lda*4))
				o[0], o[1], o[2], o[3] = alpha*v[0], alpha*v[1], alpha*v[2], alpha*v[3]
			}
		case !transA:
			// Row i of A is contiguous along p: read rows, interleave.
			for r := 0; r < rows; r++ {
				src := f32(a, (i0+ir+r)*lda+p0)
				for p := 0; p < kb; p++ {
					*(*float32)(unsafe.Add(d, (p*mr+r)*4)) = alpha * *(*float32)(unsafe.Add(src, p*4))
				}
			}
		default:
			// op(A)[i][p] = A[p][i]: the MR values for one p are contiguous.
			src := f32(a, p0*lda+i0+ir)
			for p := 0; p < kb; p++ {
				dp := unsafe.Add(d, p*mr*4)
				sp := unsafe.Add(src, p*lda*4)
				for r := 0; r < rows; r++ {
					*(*float32)(unsafe.Add(dp, r*4)) = alpha * *(*float32)(unsafe.Add(sp, r*4))
				}
			}
		}
		if rows < mr {
			for p := 0; p < kb; p++ {
				clear(dst[ir*kb+p*mr+rows : ir*kb+p*mr+mr])
			}
		}
	}
}

func packRows3(d, src unsafe.Pointer, lda, kb int, alpha float32) {
	r0, r1, r2 := src, unsafe.Add(src, lda*4), unsafe.Add(src, 2*lda*4)
	for p := 0; p < kb; p++ {
		o := (*[3]float32)(unsafe.Add(d, p*12))
		o[0] = alpha * *(*float32)(unsafe.Add(r0, p*4))
		o[1] = alpha * *(*float32)(unsafe.Add(r1, p*4))
		o[2] = alpha * *(*float32)(unsafe.Add(r2, p*4))
	}
}

func packRows4(d, src unsafe.Pointer, lda, kb int, alpha float32) {
	r0, r1 := src, unsafe.Add(src, lda*4)
	r2, r3 := unsafe.Add(src, 2*lda*4), unsafe.Add(src, 3*lda*4)
	for p := 0; p < kb; p++ {
		o := (*[4]float32)(unsafe.Add(d, p*16))
		o[0] = alpha * *(*float32)(unsafe.Add(r0, p*4))
		o[1] = alpha * *(*float32)(unsafe.Add(r1, p*4))
		o[2] = alpha * *(*float32)(unsafe.Add(r2, p*4))
		o[3] = alpha * *(*float32)(unsafe.Add(r3, p*4))
	}
}

func packRows8(d, src unsafe.Pointer, lda, kb int, alpha float32) {
	r0, r1 := src, unsafe.Add(src, lda*4)
	r2, r3 := unsafe.Add(src, 2*lda*4), unsafe.Add(src, 3*lda*4)
	r4, r5 := unsafe.Add(src, 4*lda*4), unsafe.Add(src, 5*lda*4)
	r6, r7 := unsafe.Add(src, 6*lda*4), unsafe.Add(src, 7*lda*4)
	for p := 0; p < kb; p++ {
		o := (*[8]float32)(unsafe.Add(d, p*32))
		o[0] = alpha * *(*float32)(unsafe.Add(r0, p*4))
		o[1] = alpha * *(*float32)(unsafe.Add(r1, p*4))
		o[2] = alpha * *(*float32)(unsafe.Add(r2, p*4))
		o[3] = alpha * *(*float32)(unsafe.Add(r3, p*4))
		o[4] = alpha * *(*float32)(unsafe.Add(r4, p*4))
		o[5] = alpha * *(*float32)(unsafe.Add(r5, p*4))
		o[6] = alpha * *(*float32)(unsafe.Add(r6, p*4))
		o[7] = alpha * *(*float32)(unsafe.Add(r7, p*4))
	}
}

// packRows12 packs twelve rows as three interleaved groups of four.
func packRows12(d, src unsafe.Pointer, lda, kb int, alpha float32) {
	for g := 0; g < 3; g++ {
		s := unsafe.Add(src, 4*g*lda*4)
		r0, r1 := s, unsafe.Add(s, lda*4)
		r2, r3 := unsafe.Add(s, 2*lda*4), unsafe.Add(s, 3*lda*4)
		dg := unsafe.Add(d, 16*g)
		for p := 0; p < kb; p++ {
			o := (*[4]float32)(unsafe.Add(dg, p*48))
			o[0] = alpha * *(*float32)(unsafe.Add(r0, p*4))
			o[1] = alpha * *(*float32)(unsafe.Add(r1, p*4))
			o[2] = alpha * *(*float32)(unsafe.Add(r2, p*4))
			o[3] = alpha * *(*float32)(unsafe.Add(r3, p*4))
		}
	}
}

// packB packs op(B)[p0:p0+kb][j0:j0+nb] into dst.
func packB(dst, b []float32, ldb int, transB bool, p0, kb, j0, nb, nr int) {
	_ = dst[(nb+nr-1)/nr*nr*kb-1]
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		d := f32(dst, jr*kb)
		switch {
		case !transB && cols == nr && nr == 48:
			src := f32(b, p0*ldb+j0+jr)
			for p := 0; p < kb; p++ {
				copy16B(unsafe.Add(d, p*48*4), unsafe.Add(src, p*ldb*4), 12)
			}
		case !transB && cols == nr && nr == 16:
			src := f32(b, p0*ldb+j0+jr)
			for p := 0; p < kb; p++ {
				copy16B(unsafe.Add(d, p*16*4), unsafe.Add(src, p*ldb*4), 4)
			}
		case !transB:
			// Row p of B is contiguous along j: copy runs of cols.
			src := f32(b, p0*ldb+j0+jr)
			for p := 0; p < kb; p++ {
				dp, sp := unsafe.Add(d, p*nr*4), unsafe.Add(src, p*ldb*4)
				copy16B(dp, sp, cols/4)
				for j := cols &^ 3; j < cols; j++ {
					*(*float32)(unsafe.Add(dp, j*4)) = *(*float32)(unsafe.Add(sp, j*4))
				}
			}
		default:
			// op(B)[p][j] = B[j][p]: read each row of B once, scatter by NR.
			for j := 0; j < cols; j++ {
				src := f32(b, (j0+jr+j)*ldb+p0)
				dj := unsafe.Add(d, j*4)
				for p := 0; p < kb; p++ {
					*(*float32)(unsafe.Add(dj, p*nr*4)) = *(*float32)(unsafe.Add(src, p*4))
				}
			}
		}
		if cols < nr {
			for p := 0; p < kb; p++ {
				clear(dst[jr*kb+p*nr+cols : jr*kb+p*nr+nr])
			}
		}
	}
}

// copy16B copies n 16-byte chunks. Go turns a copy of a larger array
// through pointers into a call to memmove, which costs more than the copy
// for the short rows packing moves; 16-byte copies are single SSE moves.
func copy16B(dst, src unsafe.Pointer, n int) {
	for i := 0; i < n; i++ {
		*(*[4]float32)(unsafe.Add(dst, i*16)) = *(*[4]float32)(unsafe.Add(src, i*16))
	}
}
