//go:build goexperiment.simd && amd64

// Packing routines for the AVX2 assembly kernels, in Go assembly (ABI0),
// declared in pack_avx2_asm.go; pack_avx512_amd64.s explains why packing is
// in assembly. Without AVX-512 there are no masked loads that zero what
// they skip, so partial blocks use VMASKMOVPS (faults only on the lanes it
// reads) with masks from avx2Lanes. R14 (g) and the stack are never
// touched; each return follows a VZEROUPPER.

#include "textflag.h"

// avx2Lanes holds eight all-ones words, then eight zeros: the 32 bytes at
// avx2Lanes+4·(8-n) are the mask of the first n lanes of a ymm register
// (and the 16 at that address the first min(n, 4) of an xmm one), for n
// from 0 to 8; at +4·(12-n), the 16 bytes are the xmm mask of lanes 4 to
// n-1 (none when n ≤ 4).
DATA avx2Lanes<>+0(SB)/8, $0xffffffffffffffff
DATA avx2Lanes<>+8(SB)/8, $0xffffffffffffffff
DATA avx2Lanes<>+16(SB)/8, $0xffffffffffffffff
DATA avx2Lanes<>+24(SB)/8, $0xffffffffffffffff
DATA avx2Lanes<>+32(SB)/8, $0
DATA avx2Lanes<>+40(SB)/8, $0
DATA avx2Lanes<>+48(SB)/8, $0
DATA avx2Lanes<>+56(SB)/8, $0
GLOBL avx2Lanes<>(SB), RODATA|NOPTR, $64

// TRANSPOSE4 transposes rows a–d within each 128-bit lane: lane l of a, b,
// c, d then holds columns 4l, 4l+1, 4l+2, 4l+3 of the four rows. It
// clobbers Y8–Y11.
#define TRANSPOSE4(a, b, c, d) \
	VUNPCKLPS b, a, Y8; \
	VUNPCKHPS b, a, Y9; \
	VUNPCKLPS d, c, Y10; \
	VUNPCKHPS d, c, Y11; \
	VUNPCKLPD Y10, Y8, a; \
	VUNPCKHPD Y10, Y8, b; \
	VUNPCKLPD Y11, Y9, c; \
	VUNPCKHPD Y11, Y9, d

// The aPackers' arguments are loaded by macros defined here, above the
// first TEXT, where go vet's frame check does not take them for another
// function's.

// PACKROWSARGS loads the aPacker arguments: CX = kb, SI = row 0, DX = lda,
// DI = dst, Y15 = alpha, R9 = rows, R11 = 3·lda, R12 = 5·lda, Y12 = the
// mask of the last block's columns, R10 = the whole blocks.
#define PACKROWSARGS \
	MOVQ kb+0(FP), CX; \
	MOVQ src+8(FP), SI; \
	MOVQ lda+16(FP), DX; \
	MOVQ dst+24(FP), DI; \
	VBROADCASTSS alpha+32(FP), Y15; \
	MOVQ rows+40(FP), R9; \
	LEAQ (DX)(DX*2), R11; \
	LEAQ (DX)(DX*4), R12; \
	MOVQ CX, AX; \
	ANDQ $7, AX; \
	NEGQ AX; \
	LEAQ avx2Lanes<>(SB), BX; \
	VMOVUPS 32(BX)(AX*4), Y12; \
	MOVQ CX, R10; \
	SHRQ $3, R10

// PACKCOLSARGS loads the aPacker arguments: CX = kb, SI = column 0, DX =
// lda, DI = dst, Y15 = alpha, Y12 = the mask of the rows A holds, and sets
// the flags for rows == MR.
#define PACKCOLSARGS(mr) \
	MOVQ kb+0(FP), CX; \
	MOVQ src+8(FP), SI; \
	MOVQ lda+16(FP), DX; \
	MOVQ dst+24(FP), DI; \
	VBROADCASTSS alpha+32(FP), Y15; \
	MOVQ rows+40(FP), AX; \
	NEGQ AX; \
	LEAQ avx2Lanes<>(SB), BX; \
	VMOVUPS 32(BX)(AX*4), Y12; \
	CMPQ AX, $-mr

// transpose8AVX2asm is a bTransposer (pack.go) for groups of 8 columns of
// op(B) = Bᵀ (rows of B). Each 8×8 block is loaded as four 128-bit halves
// per register, rows j and j+4 side by side (VINSERTF128 from memory: the
// exchange between lanes costs a load, not a shuffle), so that one
// in-lane 4×4 transpose per half leaves column p of the block in Yp: one
// 32-byte row of the sliver. When kb is not a multiple of 8, the last
// block's halves are loaded with masks.

// HALF loads 4 values of rows r (at lo) and r+4 (at hi) into the lanes of y.
#define HALF(lo, hi, x, y) \
	VMOVUPS lo, x; \
	VINSERTF128 $1, hi, y, y

// MASKEDHALF does the same with the lane mask X12 (low half) or X13 (high
// half) in m; it clobbers X14.
#define MASKEDHALF(lo, hi, m, x, y) \
	VMASKMOVPS lo, m, x; \
	VMASKMOVPS hi, m, X14; \
	VINSERTF128 $1, X14, y, y

// SLIVERROW stores y as the next row of the sliver, or ends the group
// after the block's last column (CX counts them).
#define SLIVERROW(y) \
	VMOVUPS y, (DI); \
	DECQ CX; \
	JZ next; \
	ADDQ R8, DI

// func transpose8AVX2asm(kb int, src *float32, ldb uintptr, dst *float32, dstStride uintptr, groups int)
TEXT ·transpose8AVX2asm(SB), NOSPLIT, $0-48
	MOVQ kb+0(FP), CX
	ANDQ $7, CX
	MOVQ $8, AX
	SUBQ CX, AX
	LEAQ avx2Lanes<>(SB), BX
	VMOVUPS (BX)(AX*4), X12 // the columns of the last, partial block: 0 to 3
	VMOVUPS 16(BX)(AX*4), X13 // and 4 to 7
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), DX
	LEAQ (DX)(DX*2), R11 // row offset 3, for the scaled-index loads
	MOVQ dst+24(FP), AX
	MOVQ dstStride+32(FP), R8
	MOVQ groups+40(FP), R9
group:
	MOVQ SI, R12 // row 0 of the group
	LEAQ (SI)(DX*4), BX // rows 4-7
	MOVQ AX, DI
	MOVQ kb+0(FP), R10
	SHRQ $3, R10
	JZ tail
block:
	HALF((SI), (BX), X0, Y0)
	HALF((SI)(DX*1), (BX)(DX*1), X1, Y1)
	HALF((SI)(DX*2), (BX)(DX*2), X2, Y2)
	HALF((SI)(R11*1), (BX)(R11*1), X3, Y3)
	HALF(16(SI), 16(BX), X4, Y4)
	HALF(16(SI)(DX*1), 16(BX)(DX*1), X5, Y5)
	HALF(16(SI)(DX*2), 16(BX)(DX*2), X6, Y6)
	HALF(16(SI)(R11*1), 16(BX)(R11*1), X7, Y7)
	TRANSPOSE4(Y0, Y1, Y2, Y3)
	TRANSPOSE4(Y4, Y5, Y6, Y7)
	VMOVUPS Y0, (DI)
	ADDQ R8, DI
	VMOVUPS Y1, (DI)
	ADDQ R8, DI
	VMOVUPS Y2, (DI)
	ADDQ R8, DI
	VMOVUPS Y3, (DI)
	ADDQ R8, DI
	VMOVUPS Y4, (DI)
	ADDQ R8, DI
	VMOVUPS Y5, (DI)
	ADDQ R8, DI
	VMOVUPS Y6, (DI)
	ADDQ R8, DI
	VMOVUPS Y7, (DI)
	ADDQ R8, DI
	ADDQ $32, SI
	ADDQ $32, BX
	DECQ R10
	JNZ block
tail:
	MOVQ kb+0(FP), CX
	ANDQ $7, CX
	JZ next
	MASKEDHALF((SI), (BX), X12, X0, Y0)
	MASKEDHALF((SI)(DX*1), (BX)(DX*1), X12, X1, Y1)
	MASKEDHALF((SI)(DX*2), (BX)(DX*2), X12, X2, Y2)
	MASKEDHALF((SI)(R11*1), (BX)(R11*1), X12, X3, Y3)
	MASKEDHALF(16(SI), 16(BX), X13, X4, Y4)
	MASKEDHALF(16(SI)(DX*1), 16(BX)(DX*1), X13, X5, Y5)
	MASKEDHALF(16(SI)(DX*2), 16(BX)(DX*2), X13, X6, Y6)
	MASKEDHALF(16(SI)(R11*1), 16(BX)(R11*1), X13, X7, Y7)
	TRANSPOSE4(Y0, Y1, Y2, Y3)
	TRANSPOSE4(Y4, Y5, Y6, Y7)
	SLIVERROW(Y0)
	SLIVERROW(Y1)
	SLIVERROW(Y2)
	SLIVERROW(Y3)
	SLIVERROW(Y4)
	SLIVERROW(Y5)
	VMOVUPS Y6, (DI)
next:
	LEAQ (R12)(DX*8), SI // the next 8 rows of B
	ADDQ $32, AX // the next 8 columns of the sliver
	DECQ R9
	JNZ group
	VZEROUPPER
	RET

// packRows6AVX2asm and packRows4AVX2asm (aPackers, pack.go) pack a sliver
// of an untransposed A, times alpha, for the 6×16 and 4×24 kernels, 8
// columns at a time. Rows 0–3 are transposed within lanes (TRANSPOSE4),
// after which the four values of one column are one 128-bit half; rows 4
// and 5 are interleaved (VUNPCKLPS/VUNPCKHPS), after which their two
// values of one column are one 64-bit quarter. A column of the sliver is
// then a 16-byte and an 8-byte store. Rows of a partial sliver past the
// last are zeros (not alpha·0, which is -0 for a negative alpha); a
// partial block at the end of the rows is loaded with the mask in Y12.

// ROW loads a row of A (at addr) times alpha (Y15) into y; if it was the
// sliver's last row (R9 = n), it jumps to label, which zeroes the rows
// below. The MASKED forms load only the columns in Y12.
#define ROW(addr, y, n, label) \
	VMOVUPS addr, y; \
	VMULPS Y15, y, y; \
	CMPQ R9, $n; \
	JEQ label

#define LASTROW(addr, y) \
	VMOVUPS addr, y; \
	VMULPS Y15, y, y

#define MASKEDROW(addr, y, n, label) \
	VMASKMOVPS addr, Y12, y; \
	VMULPS Y15, y, y; \
	CMPQ R9, $n; \
	JEQ label

#define MASKEDLASTROW(addr, y) \
	VMASKMOVPS addr, Y12, y; \
	VMULPS Y15, y, y

// COLUMN6 stores one column of a 6-row sliver's partial block: the low
// (COLUMN6LOW) or high half of y for rows 0–3 and the low (VMOVSD) or
// high (VMOVHPS) quarter of x for rows 4–5, then steps DI to the next
// column, or ends the routine after the last one (CX counts the columns
// left). COLUMN4 does the same for 4 rows.
#define COLUMN6LOW(x4, op, x) \
	VMOVUPS x4, 0(DI); \
	op x, 16(DI); \
	DECQ CX; \
	JZ done; \
	ADDQ $24, DI

#define COLUMN6(y, op, x) \
	VEXTRACTF128 $1, y, 0(DI); \
	op x, 16(DI); \
	DECQ CX; \
	JZ done; \
	ADDQ $24, DI

#define COLUMN4LOW(x4) \
	VMOVUPS x4, 0(DI); \
	DECQ CX; \
	JZ done; \
	ADDQ $16, DI

#define COLUMN4(y) \
	VEXTRACTF128 $1, y, 0(DI); \
	DECQ CX; \
	JZ done; \
	ADDQ $16, DI

// func packRows6AVX2asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)
TEXT ·packRows6AVX2asm(SB), NOSPLIT, $0-48
	PACKROWSARGS
	JZ tail
block:
	ROW((SI), Y0, 1, bzero1)
	ROW((SI)(DX*1), Y1, 2, bzero2)
	ROW((SI)(DX*2), Y2, 3, bzero3)
	ROW((SI)(R11*1), Y3, 4, bzero4)
	ROW((SI)(DX*4), Y4, 5, bzero5)
	LASTROW((SI)(R12*1), Y5)
	JMP bloaded
bzero1:
	VXORPS Y1, Y1, Y1
bzero2:
	VXORPS Y2, Y2, Y2
bzero3:
	VXORPS Y3, Y3, Y3
bzero4:
	VXORPS Y4, Y4, Y4
bzero5:
	VXORPS Y5, Y5, Y5
bloaded:
	TRANSPOSE4(Y0, Y1, Y2, Y3)
	VUNPCKLPS Y5, Y4, Y6 // rows 4-5 of columns 0, 1 | 4, 5
	VUNPCKHPS Y5, Y4, Y7 // of columns 2, 3 | 6, 7
	VEXTRACTF128 $1, Y6, X13
	VEXTRACTF128 $1, Y7, X14
	VMOVUPS X0, 0(DI)
	VMOVSD X6, 16(DI)
	VMOVUPS X1, 24(DI)
	VMOVHPS X6, 40(DI)
	VMOVUPS X2, 48(DI)
	VMOVSD X7, 64(DI)
	VMOVUPS X3, 72(DI)
	VMOVHPS X7, 88(DI)
	VEXTRACTF128 $1, Y0, 96(DI)
	VMOVSD X13, 112(DI)
	VEXTRACTF128 $1, Y1, 120(DI)
	VMOVHPS X13, 136(DI)
	VEXTRACTF128 $1, Y2, 144(DI)
	VMOVSD X14, 160(DI)
	VEXTRACTF128 $1, Y3, 168(DI)
	VMOVHPS X14, 184(DI)
	ADDQ $32, SI
	ADDQ $192, DI
	DECQ R10
	JNZ block
tail:
	ANDQ $7, CX
	JZ done
	MASKEDROW((SI), Y0, 1, tzero1)
	MASKEDROW((SI)(DX*1), Y1, 2, tzero2)
	MASKEDROW((SI)(DX*2), Y2, 3, tzero3)
	MASKEDROW((SI)(R11*1), Y3, 4, tzero4)
	MASKEDROW((SI)(DX*4), Y4, 5, tzero5)
	MASKEDLASTROW((SI)(R12*1), Y5)
	JMP tloaded
tzero1:
	VXORPS Y1, Y1, Y1
tzero2:
	VXORPS Y2, Y2, Y2
tzero3:
	VXORPS Y3, Y3, Y3
tzero4:
	VXORPS Y4, Y4, Y4
tzero5:
	VXORPS Y5, Y5, Y5
tloaded:
	TRANSPOSE4(Y0, Y1, Y2, Y3)
	VUNPCKLPS Y5, Y4, Y6
	VUNPCKHPS Y5, Y4, Y7
	VEXTRACTF128 $1, Y6, X13
	VEXTRACTF128 $1, Y7, X14
	COLUMN6LOW(X0, VMOVSD, X6)
	COLUMN6LOW(X1, VMOVHPS, X6)
	COLUMN6LOW(X2, VMOVSD, X7)
	COLUMN6LOW(X3, VMOVHPS, X7)
	COLUMN6(Y0, VMOVSD, X13)
	COLUMN6(Y1, VMOVHPS, X13)
	VEXTRACTF128 $1, Y2, 0(DI)
	VMOVSD X14, 16(DI)
done:
	VZEROUPPER
	RET

// func packRows4AVX2asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)
TEXT ·packRows4AVX2asm(SB), NOSPLIT, $0-48
	PACKROWSARGS
	JZ tail
block:
	ROW((SI), Y0, 1, bzero1)
	ROW((SI)(DX*1), Y1, 2, bzero2)
	ROW((SI)(DX*2), Y2, 3, bzero3)
	LASTROW((SI)(R11*1), Y3)
	JMP bloaded
bzero1:
	VXORPS Y1, Y1, Y1
bzero2:
	VXORPS Y2, Y2, Y2
bzero3:
	VXORPS Y3, Y3, Y3
bloaded:
	TRANSPOSE4(Y0, Y1, Y2, Y3)
	VMOVUPS X0, 0(DI)
	VMOVUPS X1, 16(DI)
	VMOVUPS X2, 32(DI)
	VMOVUPS X3, 48(DI)
	VEXTRACTF128 $1, Y0, 64(DI)
	VEXTRACTF128 $1, Y1, 80(DI)
	VEXTRACTF128 $1, Y2, 96(DI)
	VEXTRACTF128 $1, Y3, 112(DI)
	ADDQ $32, SI
	ADDQ $128, DI
	DECQ R10
	JNZ block
tail:
	ANDQ $7, CX
	JZ done
	MASKEDROW((SI), Y0, 1, tzero1)
	MASKEDROW((SI)(DX*1), Y1, 2, tzero2)
	MASKEDROW((SI)(DX*2), Y2, 3, tzero3)
	MASKEDLASTROW((SI)(R11*1), Y3)
	JMP tloaded
tzero1:
	VXORPS Y1, Y1, Y1
tzero2:
	VXORPS Y2, Y2, Y2
tzero3:
	VXORPS Y3, Y3, Y3
tloaded:
	TRANSPOSE4(Y0, Y1, Y2, Y3)
	COLUMN4LOW(X0)
	COLUMN4LOW(X1)
	COLUMN4LOW(X2)
	COLUMN4LOW(X3)
	COLUMN4(Y0)
	COLUMN4(Y1)
	VEXTRACTF128 $1, Y2, 0(DI)
done:
	VZEROUPPER
	RET

// packCols6AVX2asm and packCols4AVX2asm (aPackers, pack.go) pack a sliver
// of a transposed A, times alpha: the MR values of one column of the
// sliver are contiguous in A. A full sliver moves them with plain loads
// and stores (16 and 8 bytes for 6 rows); a partial one (the last sliver
// of a block) loads the rows A holds with VMASKMOVPS and clears the rest
// with the same mask after the multiply, so that they are +0.

// func packCols6AVX2asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)
TEXT ·packCols6AVX2asm(SB), NOSPLIT, $0-48
	PACKCOLSARGS(6)
	JNE partial
full:
	VMOVUPS (SI), X0
	VMOVSD 16(SI), X1
	VMULPS X15, X0, X0
	VMULPS X15, X1, X1
	VMOVUPS X0, 0(DI)
	VMOVSD X1, 16(DI)
	ADDQ DX, SI
	ADDQ $24, DI
	DECQ CX
	JNZ full
	VZEROUPPER
	RET
partial:
	VMASKMOVPS (SI), Y12, Y0
	VMULPS Y15, Y0, Y0
	VANDPS Y12, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMOVUPS X0, 0(DI)
	VMOVSD X1, 16(DI)
	ADDQ DX, SI
	ADDQ $24, DI
	DECQ CX
	JNZ partial
	VZEROUPPER
	RET

// func packCols4AVX2asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)
TEXT ·packCols4AVX2asm(SB), NOSPLIT, $0-48
	PACKCOLSARGS(4)
	JNE partial
full:
	VMOVUPS (SI), X0
	VMULPS X15, X0, X0
	VMOVUPS X0, 0(DI)
	ADDQ DX, SI
	ADDQ $16, DI
	DECQ CX
	JNZ full
	VZEROUPPER
	RET
partial:
	VMASKMOVPS (SI), X12, X0
	VMULPS X15, X0, X0
	VANDPS X12, X0, X0
	VMOVUPS X0, 0(DI)
	ADDQ DX, SI
	ADDQ $16, DI
	DECQ CX
	JNZ partial
	VZEROUPPER
	RET

// copy16AVX2asm and copy24AVX2asm (bCopiers, pack.go) pack one full
// sliver of an untransposed B for the 6×16 and 4×24 kernels, prefetching
// the row PFROWS ahead as copy32AVX512asm does, and for its reason (each
// row of B is in another page, where the hardware prefetchers find no
// stream). A row that does not start on a cache line spans one line more,
// hence the prefetch of its last byte.
#define PFROWS 8

// func copy16AVX2asm(kb int, src *float32, ldb uintptr, dst *float32)
TEXT ·copy16AVX2asm(SB), NOSPLIT, $0-32
	MOVQ kb+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), DX
	MOVQ dst+24(FP), DI
	IMUL3Q $PFROWS, DX, R8
	ADDQ SI, R8
copy16:
	PREFETCHT0 (R8)
	PREFETCHT0 63(R8)
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ DX, SI
	ADDQ DX, R8
	ADDQ $64, DI
	DECQ CX
	JNZ copy16
	VZEROUPPER
	RET

// func copy24AVX2asm(kb int, src *float32, ldb uintptr, dst *float32)
TEXT ·copy24AVX2asm(SB), NOSPLIT, $0-32
	MOVQ kb+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), DX
	MOVQ dst+24(FP), DI
	IMUL3Q $PFROWS, DX, R8
	ADDQ SI, R8
copy24:
	PREFETCHT0 (R8)
	PREFETCHT0 64(R8)
	PREFETCHT0 95(R8)
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	ADDQ DX, SI
	ADDQ DX, R8
	ADDQ $96, DI
	DECQ CX
	JNZ copy24
	VZEROUPPER
	RET
