package dist

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// socket makes non-blocking reads and writes on a connection's descriptor:
// each call moves what the kernel can take or give at once, or nothing,
// instead of parking the goroutine in the network poller. The closures are
// built once, so a call does not allocate.
type socket struct {
	rc                    syscall.RawConn
	buf                   []byte
	n                     int
	err                   error
	readFn, wrtFn, peekFn func(fd uintptr) bool
}

func newSocket(conn net.Conn) *socket {
	s := &socket{}
	sc, ok := conn.(syscall.Conn)
	if ok {
		s.rc, _ = sc.SyscallConn()
	}
	s.readFn = func(fd uintptr) bool {
		s.n, s.err = retry(syscall.Read, fd, s.buf)
		return true // never wait: the caller polls
	}
	s.wrtFn = func(fd uintptr) bool {
		s.n, s.err = retry(syscall.Write, fd, s.buf)
		return true
	}
	var one [1]byte
	s.peekFn = func(fd uintptr) bool {
		s.n, _, s.err = syscall.Recvfrom(int(fd), one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	}
	return s
}

// open reports, without reading or waiting, whether the connection is
// still open: a peer whose process ended has closed it.
func (s *socket) open() bool {
	if s.rc == nil {
		return true // nothing to ask; the timeout still bounds the wait
	}
	if s.rc.Read(s.peekFn) != nil {
		return false // closed on this side
	}
	return s.n > 0 || errors.Is(s.err, syscall.EAGAIN)
}

// retry calls op until it is not interrupted by a signal.
func retry(op func(int, []byte) (int, error), fd uintptr, b []byte) (int, error) {
	for {
		n, err := op(int(fd), b)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// read moves up to len(b) received bytes into b: 0 if none are waiting,
// io.EOF once the peer has closed the connection.
func (s *socket) read(b []byte) (int, error) {
	return s.do(s.readFn, b, true)
}

// write hands up to len(b) bytes to the kernel: 0 if its buffer is full.
func (s *socket) write(b []byte) (int, error) {
	return s.do(s.wrtFn, b, false)
}

func (s *socket) do(fn func(uintptr) bool, b []byte, reading bool) (int, error) {
	if s.rc == nil {
		return 0, errors.New("dist: the connection has no descriptor")
	}
	s.buf = b
	var err error
	if reading {
		err = s.rc.Read(fn)
	} else {
		err = s.rc.Write(fn)
	}
	s.buf = nil
	switch {
	case err != nil: // closed on this side
		return 0, err
	case errors.Is(s.err, syscall.EAGAIN):
		return 0, nil
	case s.err != nil:
		return 0, s.err
	case reading && s.n == 0 && len(b) > 0:
		return 0, io.EOF
	}
	return s.n, nil
}
