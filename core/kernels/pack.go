package kernels

import (
	"fmt"
	"unsafe"
)

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
// The two packs that transpose (rows of an untransposed A into MR-tall
// slivers, rows of B into the slivers of op(B) = Bᵀ) cost the most in Go,
// a store per value into scattered cache lines; the assembly sets do them,
// the copy of a transposed A and that of an untransposed B in assembly
// (pack_avx512_amd64.s, pack_avx2_amd64.s) through the kernelSet's
// packRows, packBT, packCols and packCopy.

// f32 returns a pointer to s[i] without a bounds check.
func f32(s []float32, i int) unsafe.Pointer {
	return unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), i*4)
}

// aPacker packs one sliver of op(A) times alpha: for p < kb and i < MR,
// op(A)[i][p] goes to dst[p·MR+i] if i < rows, and zero if not; src points
// at op(A)[0][0] and lda is in bytes; kb ≥ 1, 1 ≤ rows ≤ MR. A kernel
// set's packRows takes an untransposed A (op(A)[i][p] at src + i·lda + 4p),
// its packCols a transposed one (at src + p·lda + 4i).
type aPacker func(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)

// packA packs op(A)[i0:i0+mb][p0:p0+kb] scaled by alpha into dst, in
// slivers of ks.mr.
func (ks *kernelSet) packA(dst, a []float32, lda int, transA bool, i0, mb, p0, kb int, alpha float32) {
	mr := ks.mr
	_ = dst[(mb+mr-1)/mr*mr*kb-1]
	for ir := 0; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		d := f32(dst, ir*kb)
		if pack := ks.packRows; !transA && pack != nil {
			pack(kb, (*float32)(f32(a, (i0+ir)*lda+p0)), uintptr(lda*4), (*float32)(d), alpha, rows)
			continue
		}
		if pack := ks.packCols; transA && pack != nil {
			pack(kb, (*float32)(f32(a, p0*lda+i0+ir)), uintptr(lda*4), (*float32)(d), alpha, rows)
			continue
		}
		switch {
		case !transA && rows == 3 && mr == 3:
			packRows3(d, f32(a, (i0+ir)*lda+p0), lda, kb, alpha)
		case !transA && rows == 4 && mr == 4:
			packRows4(d, f32(a, (i0+ir)*lda+p0), lda, kb, alpha)
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

// bTransposer packs w·groups columns of op(B) = Bᵀ into a sliver, where w
// is the kernel set's transposerCols: for each group g, p < kb and j < w,
// the value B[g·w+j][p] at src goes to column g·w+j of sliver row p at
// dst. ldb and dstStride (the sliver's row length, NR·4) are in bytes; kb,
// groups ≥ 1.
type bTransposer func(kb int, src *float32, ldb uintptr, dst *float32, dstStride uintptr, groups int)

// transposerCols is the width of packBT's column groups.
func (ks *kernelSet) transposerCols() int {
	if ks.btCols == 0 {
		return 16
	}
	return ks.btCols
}

// bCopier packs one full sliver of an untransposed B: for p < kb, the NR
// values at src + p·ldb (ldb in bytes) go to row p of the sliver at dst;
// kb ≥ 1.
type bCopier func(kb int, src *float32, ldb uintptr, dst *float32)

// packB packs op(B)[p0:p0+kb][j0:j0+nb] into dst, in slivers of ks.nr.
func (ks *kernelSet) packB(dst, b []float32, ldb int, transB bool, p0, kb, j0, nb int) {
	nr := ks.nr
	_ = dst[(nb+nr-1)/nr*nr*kb-1]
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		d := f32(dst, jr*kb)
		switch {
		case !transB && cols == nr && ks.packCopy != nil:
			ks.packCopy(kb, (*float32)(f32(b, p0*ldb+j0+jr)), uintptr(ldb*4), (*float32)(d))
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
			// op(B)[p][j] = B[j][p]: whole groups of 16 rows of B go through
			// the set's transposer, if any; the rest are read one row at a
			// time and scattered by NR.
			done := 0
			if w := ks.transposerCols(); ks.packBT != nil && cols >= w {
				done = cols / w * w
				ks.packBT(kb, (*float32)(f32(b, (j0+jr)*ldb+p0)), uintptr(ldb*4), (*float32)(d), uintptr(nr*4), done/w)
			}
			for j := done; j < cols; j++ {
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

// Transpose writes the transpose of the rows×cols matrix src (row stride
// lds) into dst (cols×rows, row stride ldd): dst[j][i] = src[i][j]. Whole
// groups of rows go through the kernel set's B transposer, if it has one;
// the rest are copied one value at a time. It panics if a buffer is too
// short.
func Transpose(rows, cols int, src []float32, lds int, dst []float32, ldd int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("kernels: Transpose: negative size %d×%d", rows, cols))
	}
	checkOperand("Transpose source", src, rows, cols, lds)
	checkOperand("Transpose destination", dst, cols, rows, ldd)
	if rows == 0 || cols == 0 {
		return
	}
	ks, done := active, 0
	if w := ks.transposerCols(); ks.packBT != nil && rows >= w {
		done = rows / w * w
		ks.packBT(cols, &src[0], uintptr(lds*4), &dst[0], uintptr(ldd*4), done/w)
	}
	for i := done; i < rows; i++ {
		s := src[i*lds : i*lds+cols]
		for j, v := range s {
			dst[j*ldd+i] = v
		}
	}
}
