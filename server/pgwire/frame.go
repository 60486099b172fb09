package pgwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Message size limits. pgproto3 allocates a message's whole declared body before
// reading it, so a 5-byte header claiming 256 MiB would cost 256 MiB. frameReader stands
// between the socket and pgproto3: it reads each message whole, growing its buffer only
// as bytes arrive, and hands pgproto3 nothing until the message is complete. Memory is
// thus proportional to what clients actually sent, and a client that stops half-way
// through a message is dropped after stallTimeout.
const (
	// maxLargeMessage bounds the messages that carry data (Query, Parse, Bind,
	// FunctionCall, CopyData), as PostgreSQL's PQ_LARGE_MESSAGE_LIMIT does, lower.
	maxLargeMessage = maxMessageBody
	// maxSmallMessage bounds every other message (Sync, Describe, Execute, Close, …),
	// PostgreSQL's PQ_SMALL_MESSAGE_LIMIT; password and SASL messages get maxAuthMessage.
	maxSmallMessage = 10000
	maxAuthMessage  = 64 << 10
	// growStep is the most a message's buffer grows ahead of the bytes received.
	growStep = 64 << 10
	// defaultStallTimeout is how long a client may pause in the middle of a message.
	defaultStallTimeout = 30 * time.Second
)

// messageLimit is the largest body a frontend message of type typ may declare.
func messageLimit(typ byte) int {
	switch typ {
	case 'Q', 'P', 'B', 'F', 'd':
		return maxLargeMessage
	case 'p':
		return maxAuthMessage
	case 'f': // CopyFail's reason
		return maxAuthMessage
	}
	return maxSmallMessage
}

// frontendTypes are the type bytes of the messages pgproto3's Backend decodes.
const frontendTypes = "BCDEFfdcHPpQSX"

// errMessageTooLarge and errMessageStalled end a connection with 08P01.
var (
	errMessageTooLarge = errors.New("message too large")
	errMessageStalled  = errors.New("incomplete message")
)

// frameReader serves pgproto3 one whole frontend message at a time (see the constants
// above). It is used only after startup, so it starts at a message boundary; startup
// packets (at most 10000 bytes) are read directly.
type frameReader struct {
	r        io.Reader
	deadline func(time.Time) error // the socket's SetReadDeadline
	stall    time.Duration
	idle     time.Time // the read deadline between messages (startup's; none after it)
	max      int       // when > 0, a lower limit for every message (the fuzz test's)

	buf []byte // the current message: type, length, body
	pos int    // how much of buf pgproto3 has read
	err error  // sticky
}

func (f *frameReader) Read(p []byte) (int, error) {
	if f.pos == len(f.buf) {
		if f.err != nil {
			return 0, f.err
		}
		if err := f.next(); err != nil {
			f.err = err
			return 0, err
		}
	}
	n := copy(p, f.buf[f.pos:])
	f.pos += n
	return n, nil
}

// next reads the next message into buf.
func (f *frameReader) next() error {
	if cap(f.buf) > growStep {
		f.buf = nil // a large message's buffer is not kept for the small ones after it
	}
	f.buf, f.pos = append(f.buf[:0], 0, 0, 0, 0, 0), 0
	if _, err := io.ReadFull(f.r, f.buf); err != nil {
		return err
	}
	typ := f.buf[0]
	n := int(int32(binary.BigEndian.Uint32(f.buf[1:]))) - 4
	if n < 0 || !strings.ContainsRune(frontendTypes, rune(typ)) {
		return nil // pgproto3 reports the bad length or type, before it reads a body
	}
	limit := messageLimit(typ)
	if f.max > 0 {
		limit = min(limit, f.max)
	}
	if n > limit {
		return fmt.Errorf("%w: a %q message of %d bytes exceeds the limit of %d bytes", errMessageTooLarge, typ, n, limit)
	}
	if n == 0 {
		return nil
	}
	// The body: each read has stall to bring bytes; the buffer grows by at most
	// max(growStep, what has arrived), so it stays within twice what was received.
	defer f.deadline(f.idle)
	for got := 0; got < n; {
		if len(f.buf) == cap(f.buf) {
			grown := make([]byte, len(f.buf), len(f.buf)+min(n-got, max(growStep, got)))
			copy(grown, f.buf)
			f.buf = grown
		}
		_ = f.deadline(time.Now().Add(f.stall))
		k, err := f.r.Read(f.buf[len(f.buf):min(cap(f.buf), len(f.buf)+n-got)])
		f.buf = f.buf[:len(f.buf)+k]
		got += k
		if err != nil && got < n {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return fmt.Errorf("%w: the client sent %d of the %d bytes of a %q message, then nothing for %v",
					errMessageStalled, got, n, typ, f.stall)
			}
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// setReadDeadline sets the socket's read deadline between messages (the startup phase
// has one); frameReader applies its own within a message and then restores this one.
func (c *conn) setReadDeadline(t time.Time) {
	c.fr.idle = t
	_ = c.nc.SetReadDeadline(t)
}
