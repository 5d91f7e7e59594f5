//go:build goexperiment.simd && amd64

// Packing routines in Go assembly (ABI0), declared in pack_avx512_asm.go.
// Both turn rows of a matrix, contiguous along k, into slivers whose rows
// run across them, a transpose that scalar Go does one value at a time
// with a store into another cache line each time; here 16 columns of k
// move through registers at once. R14 (g) and the stack are never touched;
// each return follows a VZEROUPPER. The bodies were written by a small
// script; keep them regular when editing.
//
// transpose16AVX512asm (a bTransposer, pack.go) packs op(B) = Bᵀ. Each
// 16×16 block is loaded into Z0–Z15 (row j of B in Zj), transposed in four
// shuffle stages (pairs of rows interleaved, 4×4 blocks within each 128-bit
// lane, then lanes exchanged twice with VSHUFF32X4), leaving column p in Zp,
// and stored as one 64-byte row of the sliver. It moves ~9 values per ns on
// the reference machine, bound by the cache-line traffic between L1 and L2
// rather than by the 64 shuffles: a variant gathering 128-bit pieces into
// lanes at load time (half the shuffles) and one with software prefetches
// ran no faster. When kb is not a multiple of 16, the last block of a
// group is loaded with zeroing masks (nothing read past a row's end) and
// only its first kb mod 16 columns are stored.

#include "textflag.h"

// TRANSPOSE16 transposes Z0–Z15 in place (row j in Zj becomes column j),
// in the four shuffle stages described above; it clobbers Z16–Z31.
#define TRANSPOSE16 \
	VUNPCKLPS Z1, Z0, Z16; \
	VUNPCKHPS Z1, Z0, Z17; \
	VUNPCKLPS Z3, Z2, Z18; \
	VUNPCKHPS Z3, Z2, Z19; \
	VUNPCKLPS Z5, Z4, Z20; \
	VUNPCKHPS Z5, Z4, Z21; \
	VUNPCKLPS Z7, Z6, Z22; \
	VUNPCKHPS Z7, Z6, Z23; \
	VUNPCKLPS Z9, Z8, Z24; \
	VUNPCKHPS Z9, Z8, Z25; \
	VUNPCKLPS Z11, Z10, Z26; \
	VUNPCKHPS Z11, Z10, Z27; \
	VUNPCKLPS Z13, Z12, Z28; \
	VUNPCKHPS Z13, Z12, Z29; \
	VUNPCKLPS Z15, Z14, Z30; \
	VUNPCKHPS Z15, Z14, Z31; \
	VUNPCKLPD Z18, Z16, Z0; \
	VUNPCKHPD Z18, Z16, Z1; \
	VUNPCKLPD Z19, Z17, Z2; \
	VUNPCKHPD Z19, Z17, Z3; \
	VUNPCKLPD Z22, Z20, Z4; \
	VUNPCKHPD Z22, Z20, Z5; \
	VUNPCKLPD Z23, Z21, Z6; \
	VUNPCKHPD Z23, Z21, Z7; \
	VUNPCKLPD Z26, Z24, Z8; \
	VUNPCKHPD Z26, Z24, Z9; \
	VUNPCKLPD Z27, Z25, Z10; \
	VUNPCKHPD Z27, Z25, Z11; \
	VUNPCKLPD Z30, Z28, Z12; \
	VUNPCKHPD Z30, Z28, Z13; \
	VUNPCKLPD Z31, Z29, Z14; \
	VUNPCKHPD Z31, Z29, Z15; \
	VSHUFF32X4 $0x44, Z4, Z0, Z16; \
	VSHUFF32X4 $0xEE, Z4, Z0, Z17; \
	VSHUFF32X4 $0x44, Z12, Z8, Z18; \
	VSHUFF32X4 $0xEE, Z12, Z8, Z19; \
	VSHUFF32X4 $0x44, Z5, Z1, Z20; \
	VSHUFF32X4 $0xEE, Z5, Z1, Z21; \
	VSHUFF32X4 $0x44, Z13, Z9, Z22; \
	VSHUFF32X4 $0xEE, Z13, Z9, Z23; \
	VSHUFF32X4 $0x44, Z6, Z2, Z24; \
	VSHUFF32X4 $0xEE, Z6, Z2, Z25; \
	VSHUFF32X4 $0x44, Z14, Z10, Z26; \
	VSHUFF32X4 $0xEE, Z14, Z10, Z27; \
	VSHUFF32X4 $0x44, Z7, Z3, Z28; \
	VSHUFF32X4 $0xEE, Z7, Z3, Z29; \
	VSHUFF32X4 $0x44, Z15, Z11, Z30; \
	VSHUFF32X4 $0xEE, Z15, Z11, Z31; \
	VSHUFF32X4 $0x88, Z18, Z16, Z0; \
	VSHUFF32X4 $0xDD, Z18, Z16, Z4; \
	VSHUFF32X4 $0x88, Z19, Z17, Z8; \
	VSHUFF32X4 $0xDD, Z19, Z17, Z12; \
	VSHUFF32X4 $0x88, Z22, Z20, Z1; \
	VSHUFF32X4 $0xDD, Z22, Z20, Z5; \
	VSHUFF32X4 $0x88, Z23, Z21, Z9; \
	VSHUFF32X4 $0xDD, Z23, Z21, Z13; \
	VSHUFF32X4 $0x88, Z26, Z24, Z2; \
	VSHUFF32X4 $0xDD, Z26, Z24, Z6; \
	VSHUFF32X4 $0x88, Z27, Z25, Z10; \
	VSHUFF32X4 $0xDD, Z27, Z25, Z14; \
	VSHUFF32X4 $0x88, Z30, Z28, Z3; \
	VSHUFF32X4 $0xDD, Z30, Z28, Z7; \
	VSHUFF32X4 $0x88, Z31, Z29, Z11; \
	VSHUFF32X4 $0xDD, Z31, Z29, Z15

// func transpose16AVX512asm(kb int, src *float32, ldb uintptr, dst *float32, dstStride uintptr, groups int)
TEXT ·transpose16AVX512asm(SB), NOSPLIT, $0-48
	MOVQ kb+0(FP), CX
	ANDQ $15, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1 // the columns of the last, partial block
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), DX
	LEAQ (DX)(DX*2), R11 // row offsets 3, 5 and 7 for the scaled-index loads
	LEAQ (DX)(DX*4), R12
	LEAQ (R11)(DX*4), R13
	MOVQ dst+24(FP), AX
	MOVQ dstStride+32(FP), R8
	MOVQ groups+40(FP), R9
group:
	LEAQ (SI)(DX*8), BX // rows 8-15 of the group
	MOVQ AX, DI
	MOVQ kb+0(FP), R10
	SHRQ $4, R10
	JZ tail
block:
	VMOVUPS (SI), Z0
	VMOVUPS (SI)(DX*1), Z1
	VMOVUPS (SI)(DX*2), Z2
	VMOVUPS (SI)(R11*1), Z3
	VMOVUPS (SI)(DX*4), Z4
	VMOVUPS (SI)(R12*1), Z5
	VMOVUPS (SI)(R11*2), Z6
	VMOVUPS (SI)(R13*1), Z7
	VMOVUPS (BX), Z8
	VMOVUPS (BX)(DX*1), Z9
	VMOVUPS (BX)(DX*2), Z10
	VMOVUPS (BX)(R11*1), Z11
	VMOVUPS (BX)(DX*4), Z12
	VMOVUPS (BX)(R12*1), Z13
	VMOVUPS (BX)(R11*2), Z14
	VMOVUPS (BX)(R13*1), Z15
	TRANSPOSE16
	VMOVUPS Z0, (DI)
	ADDQ R8, DI
	VMOVUPS Z1, (DI)
	ADDQ R8, DI
	VMOVUPS Z2, (DI)
	ADDQ R8, DI
	VMOVUPS Z3, (DI)
	ADDQ R8, DI
	VMOVUPS Z4, (DI)
	ADDQ R8, DI
	VMOVUPS Z5, (DI)
	ADDQ R8, DI
	VMOVUPS Z6, (DI)
	ADDQ R8, DI
	VMOVUPS Z7, (DI)
	ADDQ R8, DI
	VMOVUPS Z8, (DI)
	ADDQ R8, DI
	VMOVUPS Z9, (DI)
	ADDQ R8, DI
	VMOVUPS Z10, (DI)
	ADDQ R8, DI
	VMOVUPS Z11, (DI)
	ADDQ R8, DI
	VMOVUPS Z12, (DI)
	ADDQ R8, DI
	VMOVUPS Z13, (DI)
	ADDQ R8, DI
	VMOVUPS Z14, (DI)
	ADDQ R8, DI
	VMOVUPS Z15, (DI)
	ADDQ R8, DI
	ADDQ $64, SI
	ADDQ $64, BX
	DECQ R10
	JNZ block
tail:
	MOVQ kb+0(FP), CX
	ANDQ $15, CX
	JZ next
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (SI)(DX*1), K1, Z1
	VMOVUPS.Z (SI)(DX*2), K1, Z2
	VMOVUPS.Z (SI)(R11*1), K1, Z3
	VMOVUPS.Z (SI)(DX*4), K1, Z4
	VMOVUPS.Z (SI)(R12*1), K1, Z5
	VMOVUPS.Z (SI)(R11*2), K1, Z6
	VMOVUPS.Z (SI)(R13*1), K1, Z7
	VMOVUPS.Z (BX), K1, Z8
	VMOVUPS.Z (BX)(DX*1), K1, Z9
	VMOVUPS.Z (BX)(DX*2), K1, Z10
	VMOVUPS.Z (BX)(R11*1), K1, Z11
	VMOVUPS.Z (BX)(DX*4), K1, Z12
	VMOVUPS.Z (BX)(R12*1), K1, Z13
	VMOVUPS.Z (BX)(R11*2), K1, Z14
	VMOVUPS.Z (BX)(R13*1), K1, Z15
	TRANSPOSE16
	VMOVUPS Z0, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z1, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z2, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z3, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z4, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z5, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z6, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z7, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z8, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z9, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z10, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z11, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z12, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z13, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z14, (DI)
	DECQ CX
	JZ next
	ADDQ R8, DI
	VMOVUPS Z15, (DI)
next:
	MOVQ kb+0(FP), CX
	SHRQ $4, CX
	SHLQ $6, CX
	SUBQ CX, SI // back to the group's first column
	LEAQ (SI)(DX*8), SI
	LEAQ (SI)(DX*8), SI // and 16 rows down
	ADDQ $64, AX // the next 16 columns of the sliver
	DECQ R9
	JNZ group
	VZEROUPPER
	RET

// packRows12AVX512asm and packRows8AVX512asm (aPackers, pack.go) pack a
// sliver of an untransposed A, times alpha, for the 12×32 and 8×48
// kernels. Rows are loaded in groups of four and transposed within each
// 128-bit lane only (two shuffle stages), after which the four values of
// one column are one lane, written with a 128-bit store (VEXTRACTF32X4 to
// memory needs no shuffle µop). The tail is handled as in
// transpose16AVX512asm. The rows of a partial sliver past the last are
// zeros (not alpha·0, which is -0 for a negative alpha).

// ROW loads a row of A (at addr) times alpha (Z31) into z; if it was the
// sliver's last row (R9 = n), it jumps to label, which zeroes the rows
// below. LASTROW is the sliver's last possible row. The MASKED forms load
// only the columns in K1 (the partial block at the end of a row).
#define ROW(addr, z, n, label) \
	VMOVUPS addr, z; \
	VMULPS Z31, z, z; \
	CMPQ R9, $n; \
	JEQ label

#define LASTROW(addr, z) \
	VMOVUPS addr, z; \
	VMULPS Z31, z, z

#define MASKEDROW(addr, z, n, label) \
	VMOVUPS.Z addr, K1, z; \
	VMULPS Z31, z, z; \
	CMPQ R9, $n; \
	JEQ label

#define MASKEDLASTROW(addr, z) \
	VMOVUPS.Z addr, K1, z; \
	VMULPS Z31, z, z

// TRANSPOSE4LANES transposes rows a–d within each 128-bit lane (two
// shuffle stages): lane l of a, b, c, d then holds columns 4l, 4l+1,
// 4l+2, 4l+3 of the four rows. It clobbers t0–t3.
#define TRANSPOSE4LANES(a, b, c, d, t0, t1, t2, t3) \
	VUNPCKLPS b, a, t0; \
	VUNPCKHPS b, a, t1; \
	VUNPCKLPS d, c, t2; \
	VUNPCKHPS d, c, t3; \
	VUNPCKLPD t2, t0, a; \
	VUNPCKHPD t2, t0, b; \
	VUNPCKLPD t3, t1, c; \
	VUNPCKHPD t3, t1, d

// COLUMN12 stores one column of a 12-row sliver's partial block: lane
// `lane` of three registers (the low lane with COLUMN12LOW, from their X
// halves), then steps DI to the next column, or ends the routine after the
// last one (CX counts the columns left). COLUMN8 does the same for 8 rows.
#define COLUMN12LOW(x0, x1, x2) \
	VMOVUPS x0, 0(DI); \
	VMOVUPS x1, 16(DI); \
	VMOVUPS x2, 32(DI); \
	DECQ CX; \
	JZ done; \
	ADDQ $48, DI

#define COLUMN12(lane, z0, z1, z2) \
	VEXTRACTF32X4 $lane, z0, 0(DI); \
	VEXTRACTF32X4 $lane, z1, 16(DI); \
	VEXTRACTF32X4 $lane, z2, 32(DI); \
	DECQ CX; \
	JZ done; \
	ADDQ $48, DI

#define COLUMN8LOW(x0, x1) \
	VMOVUPS x0, 0(DI); \
	VMOVUPS x1, 16(DI); \
	DECQ CX; \
	JZ done; \
	ADDQ $32, DI

#define COLUMN8(lane, z0, z1) \
	VEXTRACTF32X4 $lane, z0, 0(DI); \
	VEXTRACTF32X4 $lane, z1, 16(DI); \
	DECQ CX; \
	JZ done; \
	ADDQ $32, DI

// func packRows12AVX512asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)
TEXT ·packRows12AVX512asm(SB), NOSPLIT, $0-48
	MOVQ kb+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lda+16(FP), DX
	MOVQ dst+24(FP), DI
	VBROADCASTSS alpha+32(FP), Z31
	MOVQ rows+40(FP), R9
	LEAQ (DX)(DX*2), R11
	LEAQ (DX)(DX*4), R12
	LEAQ (R11)(DX*4), R13
	LEAQ (SI)(DX*8), BX
	MOVQ CX, R10
	SHRQ $4, R10
	JZ tail
block:
	ROW((SI), Z0, 1, bzero1)
	ROW((SI)(DX*1), Z1, 2, bzero2)
	ROW((SI)(DX*2), Z2, 3, bzero3)
	ROW((SI)(R11*1), Z3, 4, bzero4)
	ROW((SI)(DX*4), Z4, 5, bzero5)
	ROW((SI)(R12*1), Z5, 6, bzero6)
	ROW((SI)(R11*2), Z6, 7, bzero7)
	ROW((SI)(R13*1), Z7, 8, bzero8)
	ROW((BX), Z8, 9, bzero9)
	ROW((BX)(DX*1), Z9, 10, bzero10)
	ROW((BX)(DX*2), Z10, 11, bzero11)
	LASTROW((BX)(R11*1), Z11)
	JMP bloaded
bzero1:
	VPXORD Z1, Z1, Z1
bzero2:
	VPXORD Z2, Z2, Z2
bzero3:
	VPXORD Z3, Z3, Z3
bzero4:
	VPXORD Z4, Z4, Z4
bzero5:
	VPXORD Z5, Z5, Z5
bzero6:
	VPXORD Z6, Z6, Z6
bzero7:
	VPXORD Z7, Z7, Z7
bzero8:
	VPXORD Z8, Z8, Z8
bzero9:
	VPXORD Z9, Z9, Z9
bzero10:
	VPXORD Z10, Z10, Z10
bzero11:
	VPXORD Z11, Z11, Z11
bloaded:
	TRANSPOSE4LANES(Z0, Z1, Z2, Z3, Z16, Z17, Z18, Z19)
	TRANSPOSE4LANES(Z4, Z5, Z6, Z7, Z20, Z21, Z22, Z23)
	TRANSPOSE4LANES(Z8, Z9, Z10, Z11, Z24, Z25, Z26, Z27)
	VMOVUPS X0, 0(DI)
	VMOVUPS X4, 16(DI)
	VMOVUPS X8, 32(DI)
	VMOVUPS X1, 48(DI)
	VMOVUPS X5, 64(DI)
	VMOVUPS X9, 80(DI)
	VMOVUPS X2, 96(DI)
	VMOVUPS X6, 112(DI)
	VMOVUPS X10, 128(DI)
	VMOVUPS X3, 144(DI)
	VMOVUPS X7, 160(DI)
	VMOVUPS X11, 176(DI)
	VEXTRACTF32X4 $1, Z0, 192(DI)
	VEXTRACTF32X4 $1, Z4, 208(DI)
	VEXTRACTF32X4 $1, Z8, 224(DI)
	VEXTRACTF32X4 $1, Z1, 240(DI)
	VEXTRACTF32X4 $1, Z5, 256(DI)
	VEXTRACTF32X4 $1, Z9, 272(DI)
	VEXTRACTF32X4 $1, Z2, 288(DI)
	VEXTRACTF32X4 $1, Z6, 304(DI)
	VEXTRACTF32X4 $1, Z10, 320(DI)
	VEXTRACTF32X4 $1, Z3, 336(DI)
	VEXTRACTF32X4 $1, Z7, 352(DI)
	VEXTRACTF32X4 $1, Z11, 368(DI)
	VEXTRACTF32X4 $2, Z0, 384(DI)
	VEXTRACTF32X4 $2, Z4, 400(DI)
	VEXTRACTF32X4 $2, Z8, 416(DI)
	VEXTRACTF32X4 $2, Z1, 432(DI)
	VEXTRACTF32X4 $2, Z5, 448(DI)
	VEXTRACTF32X4 $2, Z9, 464(DI)
	VEXTRACTF32X4 $2, Z2, 480(DI)
	VEXTRACTF32X4 $2, Z6, 496(DI)
	VEXTRACTF32X4 $2, Z10, 512(DI)
	VEXTRACTF32X4 $2, Z3, 528(DI)
	VEXTRACTF32X4 $2, Z7, 544(DI)
	VEXTRACTF32X4 $2, Z11, 560(DI)
	VEXTRACTF32X4 $3, Z0, 576(DI)
	VEXTRACTF32X4 $3, Z4, 592(DI)
	VEXTRACTF32X4 $3, Z8, 608(DI)
	VEXTRACTF32X4 $3, Z1, 624(DI)
	VEXTRACTF32X4 $3, Z5, 640(DI)
	VEXTRACTF32X4 $3, Z9, 656(DI)
	VEXTRACTF32X4 $3, Z2, 672(DI)
	VEXTRACTF32X4 $3, Z6, 688(DI)
	VEXTRACTF32X4 $3, Z10, 704(DI)
	VEXTRACTF32X4 $3, Z3, 720(DI)
	VEXTRACTF32X4 $3, Z7, 736(DI)
	VEXTRACTF32X4 $3, Z11, 752(DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $768, DI
	DECQ R10
	JNZ block
tail:
	ANDQ $15, CX
	JZ done
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1 // the columns of the last, partial block
	MASKEDROW((SI), Z0, 1, tzero1)
	MASKEDROW((SI)(DX*1), Z1, 2, tzero2)
	MASKEDROW((SI)(DX*2), Z2, 3, tzero3)
	MASKEDROW((SI)(R11*1), Z3, 4, tzero4)
	MASKEDROW((SI)(DX*4), Z4, 5, tzero5)
	MASKEDROW((SI)(R12*1), Z5, 6, tzero6)
	MASKEDROW((SI)(R11*2), Z6, 7, tzero7)
	MASKEDROW((SI)(R13*1), Z7, 8, tzero8)
	MASKEDROW((BX), Z8, 9, tzero9)
	MASKEDROW((BX)(DX*1), Z9, 10, tzero10)
	MASKEDROW((BX)(DX*2), Z10, 11, tzero11)
	MASKEDLASTROW((BX)(R11*1), Z11)
	JMP tloaded
tzero1:
	VPXORD Z1, Z1, Z1
tzero2:
	VPXORD Z2, Z2, Z2
tzero3:
	VPXORD Z3, Z3, Z3
tzero4:
	VPXORD Z4, Z4, Z4
tzero5:
	VPXORD Z5, Z5, Z5
tzero6:
	VPXORD Z6, Z6, Z6
tzero7:
	VPXORD Z7, Z7, Z7
tzero8:
	VPXORD Z8, Z8, Z8
tzero9:
	VPXORD Z9, Z9, Z9
tzero10:
	VPXORD Z10, Z10, Z10
tzero11:
	VPXORD Z11, Z11, Z11
tloaded:
	TRANSPOSE4LANES(Z0, Z1, Z2, Z3, Z16, Z17, Z18, Z19)
	TRANSPOSE4LANES(Z4, Z5, Z6, Z7, Z20, Z21, Z22, Z23)
	TRANSPOSE4LANES(Z8, Z9, Z10, Z11, Z24, Z25, Z26, Z27)
	COLUMN12LOW(X0, X4, X8)
	COLUMN12LOW(X1, X5, X9)
	COLUMN12LOW(X2, X6, X10)
	COLUMN12LOW(X3, X7, X11)
	COLUMN12(1, Z0, Z4, Z8)
	COLUMN12(1, Z1, Z5, Z9)
	COLUMN12(1, Z2, Z6, Z10)
	COLUMN12(1, Z3, Z7, Z11)
	COLUMN12(2, Z0, Z4, Z8)
	COLUMN12(2, Z1, Z5, Z9)
	COLUMN12(2, Z2, Z6, Z10)
	COLUMN12(2, Z3, Z7, Z11)
	COLUMN12(3, Z0, Z4, Z8)
	COLUMN12(3, Z1, Z5, Z9)
	COLUMN12(3, Z2, Z6, Z10)
	VEXTRACTF32X4 $3, Z3, 0(DI)
	VEXTRACTF32X4 $3, Z7, 16(DI)
	VEXTRACTF32X4 $3, Z11, 32(DI)
done:
	VZEROUPPER
	RET

// func packRows8AVX512asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)
TEXT ·packRows8AVX512asm(SB), NOSPLIT, $0-48
	MOVQ kb+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lda+16(FP), DX
	MOVQ dst+24(FP), DI
	VBROADCASTSS alpha+32(FP), Z31
	MOVQ rows+40(FP), R9
	LEAQ (DX)(DX*2), R11
	LEAQ (DX)(DX*4), R12
	LEAQ (R11)(DX*4), R13
	MOVQ CX, R10
	SHRQ $4, R10
	JZ tail
block:
	ROW((SI), Z0, 1, bzero1)
	ROW((SI)(DX*1), Z1, 2, bzero2)
	ROW((SI)(DX*2), Z2, 3, bzero3)
	ROW((SI)(R11*1), Z3, 4, bzero4)
	ROW((SI)(DX*4), Z4, 5, bzero5)
	ROW((SI)(R12*1), Z5, 6, bzero6)
	ROW((SI)(R11*2), Z6, 7, bzero7)
	LASTROW((SI)(R13*1), Z7)
	JMP bloaded
bzero1:
	VPXORD Z1, Z1, Z1
bzero2:
	VPXORD Z2, Z2, Z2
bzero3:
	VPXORD Z3, Z3, Z3
bzero4:
	VPXORD Z4, Z4, Z4
bzero5:
	VPXORD Z5, Z5, Z5
bzero6:
	VPXORD Z6, Z6, Z6
bzero7:
	VPXORD Z7, Z7, Z7
bloaded:
	TRANSPOSE4LANES(Z0, Z1, Z2, Z3, Z16, Z17, Z18, Z19)
	TRANSPOSE4LANES(Z4, Z5, Z6, Z7, Z20, Z21, Z22, Z23)
	VMOVUPS X0, 0(DI)
	VMOVUPS X4, 16(DI)
	VMOVUPS X1, 32(DI)
	VMOVUPS X5, 48(DI)
	VMOVUPS X2, 64(DI)
	VMOVUPS X6, 80(DI)
	VMOVUPS X3, 96(DI)
	VMOVUPS X7, 112(DI)
	VEXTRACTF32X4 $1, Z0, 128(DI)
	VEXTRACTF32X4 $1, Z4, 144(DI)
	VEXTRACTF32X4 $1, Z1, 160(DI)
	VEXTRACTF32X4 $1, Z5, 176(DI)
	VEXTRACTF32X4 $1, Z2, 192(DI)
	VEXTRACTF32X4 $1, Z6, 208(DI)
	VEXTRACTF32X4 $1, Z3, 224(DI)
	VEXTRACTF32X4 $1, Z7, 240(DI)
	VEXTRACTF32X4 $2, Z0, 256(DI)
	VEXTRACTF32X4 $2, Z4, 272(DI)
	VEXTRACTF32X4 $2, Z1, 288(DI)
	VEXTRACTF32X4 $2, Z5, 304(DI)
	VEXTRACTF32X4 $2, Z2, 320(DI)
	VEXTRACTF32X4 $2, Z6, 336(DI)
	VEXTRACTF32X4 $2, Z3, 352(DI)
	VEXTRACTF32X4 $2, Z7, 368(DI)
	VEXTRACTF32X4 $3, Z0, 384(DI)
	VEXTRACTF32X4 $3, Z4, 400(DI)
	VEXTRACTF32X4 $3, Z1, 416(DI)
	VEXTRACTF32X4 $3, Z5, 432(DI)
	VEXTRACTF32X4 $3, Z2, 448(DI)
	VEXTRACTF32X4 $3, Z6, 464(DI)
	VEXTRACTF32X4 $3, Z3, 480(DI)
	VEXTRACTF32X4 $3, Z7, 496(DI)
	ADDQ $64, SI
	ADDQ $512, DI
	DECQ R10
	JNZ block
tail:
	ANDQ $15, CX
	JZ done
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1 // the columns of the last, partial block
	MASKEDROW((SI), Z0, 1, tzero1)
	MASKEDROW((SI)(DX*1), Z1, 2, tzero2)
	MASKEDROW((SI)(DX*2), Z2, 3, tzero3)
	MASKEDROW((SI)(R11*1), Z3, 4, tzero4)
	MASKEDROW((SI)(DX*4), Z4, 5, tzero5)
	MASKEDROW((SI)(R12*1), Z5, 6, tzero6)
	MASKEDROW((SI)(R11*2), Z6, 7, tzero7)
	MASKEDLASTROW((SI)(R13*1), Z7)
	JMP tloaded
tzero1:
	VPXORD Z1, Z1, Z1
tzero2:
	VPXORD Z2, Z2, Z2
tzero3:
	VPXORD Z3, Z3, Z3
tzero4:
	VPXORD Z4, Z4, Z4
tzero5:
	VPXORD Z5, Z5, Z5
tzero6:
	VPXORD Z6, Z6, Z6
tzero7:
	VPXORD Z7, Z7, Z7
tloaded:
	TRANSPOSE4LANES(Z0, Z1, Z2, Z3, Z16, Z17, Z18, Z19)
	TRANSPOSE4LANES(Z4, Z5, Z6, Z7, Z20, Z21, Z22, Z23)
	COLUMN8LOW(X0, X4)
	COLUMN8LOW(X1, X5)
	COLUMN8LOW(X2, X6)
	COLUMN8LOW(X3, X7)
	COLUMN8(1, Z0, Z4)
	COLUMN8(1, Z1, Z5)
	COLUMN8(1, Z2, Z6)
	COLUMN8(1, Z3, Z7)
	COLUMN8(2, Z0, Z4)
	COLUMN8(2, Z1, Z5)
	COLUMN8(2, Z2, Z6)
	COLUMN8(2, Z3, Z7)
	COLUMN8(3, Z0, Z4)
	COLUMN8(3, Z1, Z5)
	COLUMN8(3, Z2, Z6)
	VEXTRACTF32X4 $3, Z3, 0(DI)
	VEXTRACTF32X4 $3, Z7, 16(DI)
done:
	VZEROUPPER
	RET
// packCols12AVX512asm and packCols8AVX512asm (aPackers, pack.go) pack a
// sliver of a transposed A, times alpha: the MR values of one column of
// the sliver are contiguous in A, so each is one masked load, multiply and
// masked store (Go's scalar copy is MR of each), four columns per loop. The
// load and multiply masks (K2) cover the sliver's rows that A holds and
// zero the rest; the store mask (K1) covers all MR.

// func packCols12AVX512asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)
TEXT ·packCols12AVX512asm(SB), NOSPLIT, $0-48
	MOVQ src+8(FP), SI
	MOVQ lda+16(FP), DX
	MOVQ dst+24(FP), DI
	VBROADCASTSS alpha+32(FP), Z31
	MOVL $0xfff, AX
	KMOVW AX, K1 // the 12 values of one column
	MOVQ rows+40(FP), CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K2 // those of them that A holds
	MOVQ kb+0(FP), CX
	LEAQ (DX)(DX*2), R11
	MOVQ CX, R10
	SHRQ $2, R10
	JZ tail
block:
	VMOVUPS.Z (SI), K2, Z0
	VMOVUPS.Z (SI)(DX*1), K2, Z1
	VMOVUPS.Z (SI)(DX*2), K2, Z2
	VMOVUPS.Z (SI)(R11*1), K2, Z3
	VMULPS.Z Z31, Z0, K2, Z0
	VMULPS.Z Z31, Z1, K2, Z1
	VMULPS.Z Z31, Z2, K2, Z2
	VMULPS.Z Z31, Z3, K2, Z3
	VMOVUPS Z0, K1, 0(DI)
	VMOVUPS Z1, K1, 48(DI)
	VMOVUPS Z2, K1, 96(DI)
	VMOVUPS Z3, K1, 144(DI)
	LEAQ (SI)(DX*4), SI
	ADDQ $192, DI
	DECQ R10
	JNZ block
tail:
	ANDQ $3, CX
	JZ done
column:
	VMOVUPS.Z (SI), K2, Z0
	VMULPS.Z Z31, Z0, K2, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ DX, SI
	ADDQ $48, DI
	DECQ CX
	JNZ column
done:
	VZEROUPPER
	RET

// func packCols8AVX512asm(kb int, src *float32, lda uintptr, dst *float32, alpha float32, rows int)
TEXT ·packCols8AVX512asm(SB), NOSPLIT, $0-48
	MOVQ src+8(FP), SI
	MOVQ lda+16(FP), DX
	MOVQ dst+24(FP), DI
	VBROADCASTSS alpha+32(FP), Z31
	MOVL $0xff, AX
	KMOVW AX, K1 // the 8 values of one column
	MOVQ rows+40(FP), CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K2 // those of them that A holds
	MOVQ kb+0(FP), CX
	LEAQ (DX)(DX*2), R11
	MOVQ CX, R10
	SHRQ $2, R10
	JZ tail
block:
	VMOVUPS.Z (SI), K2, Z0
	VMOVUPS.Z (SI)(DX*1), K2, Z1
	VMOVUPS.Z (SI)(DX*2), K2, Z2
	VMOVUPS.Z (SI)(R11*1), K2, Z3
	VMULPS.Z Z31, Z0, K2, Z0
	VMULPS.Z Z31, Z1, K2, Z1
	VMULPS.Z Z31, Z2, K2, Z2
	VMULPS.Z Z31, Z3, K2, Z3
	VMOVUPS Z0, K1, 0(DI)
	VMOVUPS Z1, K1, 32(DI)
	VMOVUPS Z2, K1, 64(DI)
	VMOVUPS Z3, K1, 96(DI)
	LEAQ (SI)(DX*4), SI
	ADDQ $128, DI
	DECQ R10
	JNZ block
tail:
	ANDQ $3, CX
	JZ done
column:
	VMOVUPS.Z (SI), K2, Z0
	VMULPS.Z Z31, Z0, K2, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ DX, SI
	ADDQ $32, DI
	DECQ CX
	JNZ column
done:
	VZEROUPPER
	RET

// copy32AVX512asm and copy48AVX512asm (bCopiers, pack.go) pack one full
// sliver of an untransposed B for the 12×32 and 8×48 kernels: row p of the
// sliver is the NR contiguous values of row p of B. Each row of B is in
// another page, where the hardware prefetchers find no stream, so a plain
// copy waits for a cache miss per row: in Sgemm at 1024³ on one thread the
// Go loop (copy16B) took 5% of the time, this one with its prefetch of the
// row PFROWS ahead 2%. 8 rows ahead (16 lines, the L1 miss buffers' count)
// was as fast as 16 or 32.
#define PFROWS 8

// func copy32AVX512asm(kb int, src *float32, ldb uintptr, dst *float32)
TEXT ·copy32AVX512asm(SB), NOSPLIT, $0-32
	MOVQ kb+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), DX
	MOVQ dst+24(FP), DI
	IMUL3Q $PFROWS, DX, R8
	ADDQ SI, R8
copy32:
	PREFETCHT0 (R8)
	PREFETCHT0 64(R8)
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ DX, SI
	ADDQ DX, R8
	ADDQ $128, DI
	DECQ CX
	JNZ copy32
	VZEROUPPER
	RET

// func copy48AVX512asm(kb int, src *float32, ldb uintptr, dst *float32)
TEXT ·copy48AVX512asm(SB), NOSPLIT, $0-32
	MOVQ kb+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), DX
	MOVQ dst+24(FP), DI
	IMUL3Q $PFROWS, DX, R8
	ADDQ SI, R8
copy48:
	PREFETCHT0 (R8)
	PREFETCHT0 64(R8)
	PREFETCHT0 128(R8)
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	ADDQ DX, SI
	ADDQ DX, R8
	ADDQ $192, DI
	DECQ CX
	JNZ copy48
	VZEROUPPER
	RET
