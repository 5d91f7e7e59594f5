package dist

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Every connection of a run starts with a mutual challenge-response on the
// run's secret, before any rank, address or data it carries is trusted: a
// task's port is reachable by anyone on the network, and a stranger who
// could claim a rank could feed gradients into the model. The secret never
// crosses the connection; each side proves it holds it with an HMAC over a
// nonce from each side and both claimed ranks, so an answer cannot be
// replayed on another connection or for another rank.
//
//	dialer → acceptor  magic "BDLA" | dialer's rank (u32 LE) | dialer's nonce (16)
//	acceptor → dialer  acceptor's rank (u32 LE) | acceptor's nonce (16) | HMAC("bigdl accept" | transcript)
//	dialer → acceptor  HMAC("bigdl dial" | transcript)
//
// where transcript = dialer's nonce | acceptor's nonce | dialer's rank | acceptor's rank.
// The two labels keep an acceptor's answer from serving as a dialer's proof.
// python/bigdl/_channel.py speaks the same protocol to the driver, whose
// rank is DriverRank.

const (
	authMagic   = "BDLA"
	authNonce   = 16
	authMAC     = sha256.Size
	helloBytes  = 4 + 4 + authNonce
	answerBytes = 4 + authNonce + authMAC
)

// DriverRank is the rank the driver's channel answers with.
const DriverRank = 0xFFFFFFFF

// MinSecretBytes is the shortest secret a run may use.
const MinSecretBytes = 16

// handshakeTimeout bounds one connection's handshake, so a stranger that
// connects and says nothing holds nothing for long; the run's own deadline
// still applies when it is sooner.
const handshakeTimeout = 10 * time.Second

// ErrAuth marks a connection whose other end did not prove it holds the
// run's secret, or spoke another protocol.
var ErrAuth = errors.New("not a peer of this run")

func authTag(secret []byte, label string, nd, na []byte, rd, ra uint32) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write(nd)
	m.Write(na)
	var r [8]byte
	binary.LittleEndian.PutUint32(r[:4], rd)
	binary.LittleEndian.PutUint32(r[4:], ra)
	m.Write(r[:])
	return m.Sum(nil)
}

// DialHandshake proves this end (rank) holds secret to the acceptor on
// conn and checks that the acceptor is rank want and holds it too.
func DialHandshake(conn net.Conn, secret []byte, rank, want uint32, deadline time.Time) error {
	_, err := dialHandshake(conn, secret, rank, want, deadline)
	return err
}

func dialHandshake(conn net.Conn, secret []byte, rank, want uint32, deadline time.Time) (*session, error) {
	conn.SetDeadline(deadline)
	var hello [helloBytes]byte
	copy(hello[:], authMagic)
	binary.LittleEndian.PutUint32(hello[4:], rank)
	nd := hello[8:]
	if _, err := rand.Read(nd); err != nil {
		return nil, err
	}
	if _, err := conn.Write(hello[:]); err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	var ans [answerBytes]byte
	if _, err := io.ReadFull(conn, ans[:]); err != nil {
		return nil, fmt.Errorf("reading the answer to the greeting: %w", err)
	}
	ra := binary.LittleEndian.Uint32(ans[:4])
	na := ans[4 : 4+authNonce]
	if ra != want || !hmac.Equal(ans[4+authNonce:], authTag(secret, "bigdl accept", nd, na, rank, ra)) {
		return nil, fmt.Errorf("the listener did not prove it is rank %d of this run: %w", int32(want), ErrAuth)
	}
	if _, err := conn.Write(authTag(secret, "bigdl dial", nd, na, rank, ra)); err != nil {
		return nil, fmt.Errorf("sending the proof: %w", err)
	}
	return &session{nd: nd, na: na, rd: rank, ra: ra}, nil
}

// AcceptHandshake checks that the dialer on conn holds secret, proving
// this end (rank) holds it too, and returns the dialer's rank. valid
// rejects a claimed rank before any proof is computed for it.
func AcceptHandshake(conn net.Conn, secret []byte, rank uint32, valid func(uint32) bool, deadline time.Time) (uint32, error) {
	s, err := acceptHandshake(conn, secret, rank, valid, deadline)
	if err != nil {
		return 0, err
	}
	return s.rd, nil
}

func acceptHandshake(conn net.Conn, secret []byte, rank uint32, valid func(uint32) bool, deadline time.Time) (*session, error) {
	conn.SetDeadline(deadline)
	var hello [helloBytes]byte
	if _, err := io.ReadFull(conn, hello[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("closed before greeting: %w", ErrAuth)
		}
		return nil, fmt.Errorf("no greeting: %w (%w)", ErrAuth, err)
	}
	if string(hello[:4]) != authMagic {
		return nil, fmt.Errorf("a greeting in another protocol: %w", ErrAuth)
	}
	rd := binary.LittleEndian.Uint32(hello[4:])
	if !valid(rd) {
		return nil, fmt.Errorf("it claims rank %d, which is not expected: %w", int32(rd), ErrAuth)
	}
	nd := hello[8:]
	var ans [answerBytes]byte
	binary.LittleEndian.PutUint32(ans[:], rank)
	na := ans[4 : 4+authNonce]
	if _, err := rand.Read(na); err != nil {
		return nil, err
	}
	copy(ans[4+authNonce:], authTag(secret, "bigdl accept", nd, na, rd, rank))
	if _, err := conn.Write(ans[:]); err != nil {
		return nil, fmt.Errorf("answering the greeting: %w (%w)", ErrAuth, err)
	}
	var proof [authMAC]byte
	if _, err := io.ReadFull(conn, proof[:]); err != nil {
		return nil, fmt.Errorf("claimed rank %d but sent no proof: %w", rd, ErrAuth)
	}
	if !hmac.Equal(proof[:], authTag(secret, "bigdl dial", nd, na, rd, rank)) {
		return nil, fmt.Errorf("claimed rank %d without the run's secret: %w", rd, ErrAuth)
	}
	return &session{nd: nd, na: na, rd: rd, ra: rank}, nil
}

// NewSecret is a fresh random secret for one run.
func NewSecret() []byte {
	s := make([]byte, 32)
	rand.Read(s)
	return s
}
