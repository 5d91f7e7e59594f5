package dist

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// An encrypted mesh (SetEncrypted) seals every message with AES-256-GCM,
// as Spark's own RPC encryption does when an application sets
// spark.network.crypto.enabled: gradients and weights would otherwise cross
// the network in clear text. Each connection has a key per direction,
// derived from the run's secret and the handshake's transcript (both
// nonces, both ranks), so no two connections or directions share a key, and
// each message's nonce is a counter, so none repeats under one key. A
// message that does not authenticate fails the collective.
//
// A collective's message to a peer is one sealed frame of the size both
// sides know (the plaintext plus the tag); the few messages that negotiate
// shared memory travel as length-prefixed frames (sealedConn). Shared
// memory itself is not sealed: it never leaves the host, and its file is
// the owner's alone.

// session is what a handshake agreed on: the transcript both ends hold.
type session struct {
	nd, na []byte
	rd, ra uint32
}

// keys derives the AEADs for one end: tx seals what this end sends, rx
// opens what it receives.
func (s *session) keys(secret []byte, dialer bool) (tx, rx cipher.AEAD, err error) {
	toAcceptor, err := s.aead(secret, "bigdl key dialer to acceptor")
	if err != nil {
		return nil, nil, err
	}
	toDialer, err := s.aead(secret, "bigdl key acceptor to dialer")
	if err != nil {
		return nil, nil, err
	}
	if dialer {
		return toAcceptor, toDialer, nil
	}
	return toDialer, toAcceptor, nil
}

func (s *session) aead(secret []byte, label string) (cipher.AEAD, error) {
	key := authTag(secret, label, s.nd, s.na, s.rd, s.ra) // HMAC-SHA256 as the key derivation: 32 bytes
	block, err := aes.NewCipher(key[:sha256.Size])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealer is one connection's pair of AEADs and their message counters.
type sealer struct {
	tx, rx       cipher.AEAD
	txN, rxN     uint64
	nonce        [12]byte
	plain        []byte // scratch: a message before sealing or after opening
	sealed, recv []byte // scratch: the sealed message out and in
}

func (s *sealer) nextNonce(n *uint64) []byte {
	binary.LittleEndian.PutUint64(s.nonce[4:], *n)
	*n++
	return s.nonce[:]
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// sealOut replaces the peer's outgoing slices by one sealed frame of them.
func (p *peer) sealOut() {
	s := p.seal
	n := len(p.out[0]) + len(p.out[1])
	s.plain = grow(s.plain, n)
	copy(s.plain[copy(s.plain, p.out[0]):], p.out[1])
	s.sealed = s.tx.Seal(s.sealed[:0], s.nextNonce(&s.txN), s.plain, nil)
	p.out = [2][]byte{s.sealed}
}

// sealIn makes the peer receive one sealed frame in place of its incoming
// slices, which openIn fills once the frame is complete.
func (p *peer) sealIn() {
	s := p.seal
	p.dst = p.in
	s.recv = grow(s.recv, len(p.in[0])+len(p.in[1])+s.rx.Overhead())
	p.in = [2][]byte{s.recv}
}

func (p *peer) openIn() error {
	s := p.seal
	var err error
	s.plain, err = s.rx.Open(s.plain[:0], s.nextNonce(&s.rxN), s.recv, nil)
	if err != nil {
		return errors.New("a message that does not authenticate (tampered with, or not from this run)")
	}
	copy(p.dst[1], s.plain[copy(p.dst[0], s.plain):])
	return nil
}

// sealedConn carries length-prefixed sealed frames over a connection, for
// the messages outside the collectives; it shares the peer's counters.
type sealedConn struct {
	net.Conn
	s   *sealer
	buf []byte // opened bytes not read yet
}

const maxFrame = 1 << 20

func (c *sealedConn) Write(b []byte) (int, error) {
	frame := binary.LittleEndian.AppendUint32(nil, uint32(len(b)+c.s.tx.Overhead()))
	frame = c.s.tx.Seal(frame, c.s.nextNonce(&c.s.txN), b, nil)
	if _, err := c.Conn.Write(frame); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (c *sealedConn) Read(b []byte) (int, error) {
	if len(c.buf) == 0 {
		var size [4]byte
		if _, err := io.ReadFull(c.Conn, size[:]); err != nil {
			return 0, err
		}
		n := binary.LittleEndian.Uint32(size[:])
		if n > maxFrame {
			return 0, fmt.Errorf("a sealed frame of %d bytes", n)
		}
		frame := make([]byte, n)
		if _, err := io.ReadFull(c.Conn, frame); err != nil {
			return 0, err
		}
		var err error
		if c.buf, err = c.s.rx.Open(frame[:0], c.s.nextNonce(&c.s.rxN), frame, nil); err != nil {
			return 0, errors.New("a message that does not authenticate (tampered with, or not from this run)")
		}
	}
	n := copy(b, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}
