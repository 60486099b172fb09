package pgwire

import (
	"context"
	"encoding/binary"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"
)

// TestOversizedMessages opens 100 connections that each declare a huge message: half
// declare a Query of 16 MiB (under the limit) and send 4 KiB of it, then stop; the others
// declare a Sync or a Query over the limit. pgproto3 alone would allocate every declared
// body up front (1.6 GiB here); with frameReader the heap stays near what was sent. Each
// connection gets a FATAL 08P01: at once for the over-limit ones, after StallTimeout for
// the stalled ones. The server keeps serving.
func TestOversizedMessages(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ts := &testServer{eng: newFakeEngine(), addr: ln.Addr().String(), served: make(chan error, 1)}
	ts.srv = NewServer(Config{Addr: ts.addr, StallTimeout: 2 * time.Second}, ts.eng, testLogger(t))
	go func() { ts.served <- ts.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		require.NoError(t, ts.srv.Shutdown(ctx))
		require.NoError(t, <-ts.served)
	})

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // the heap's high-water mark while the connections are open
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	const conns = 100
	header := func(typ byte, body int) []byte {
		h := []byte{typ, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(h[1:], uint32(body+4))
		return h
	}
	var wg sync.WaitGroup
	errs := make([]string, conns)
	for i := range conns {
		c := connectRaw(t, ts.addr)
		var raw []byte
		switch i % 4 {
		case 0, 1: // a big Query, under the limit, that stops after 4 KiB
			raw = append(header('Q', 16<<20), make([]byte, 4<<10)...)
		case 2: // a Sync claiming 64 MiB: over the small messages' limit
			raw = header('S', 64<<20)
		case 3: // a Query over the limit
			raw = header('Q', maxLargeMessage+1)
		}
		_, err := c.nc.Write(raw)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg, err := c.fe.Receive()
			if err != nil {
				errs[i] = err.Error()
				return
			}
			if e, ok := msg.(*pgproto3.ErrorResponse); ok && e.Severity == "FATAL" {
				errs[i] = e.Code
				return
			}
			errs[i] = "unexpected message"
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	for i, e := range errs {
		require.Equal(t, "08P01", e, "connection %d", i)
	}
	grown := int64(peak.Load()) - int64(before.HeapAlloc)
	t.Logf("heap grew by at most %d KiB for %d connections", grown>>10, conns)
	require.Less(t, grown, int64(64<<20), "heap growth must follow the bytes sent (~200 KiB), not the 1.6 GiB declared")

	// The server serves a new connection as usual.
	good := connectRaw(t, ts.addr)
	good.send(&pgproto3.Query{String: "SELECT 1"})
	require.Equal(t, "TDCZ", types(good.until('Z')))
}

// TestLargeMessageArrivesInPieces sends a 1 MiB Query in small pieces with pauses shorter
// than StallTimeout: it is read whole and answered.
func TestLargeMessageArrivesInPieces(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ts := &testServer{eng: newFakeEngine(), addr: ln.Addr().String(), served: make(chan error, 1)}
	ts.srv = NewServer(Config{Addr: ts.addr, StallTimeout: 2 * time.Second}, ts.eng, testLogger(t))
	go func() { ts.served <- ts.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		require.NoError(t, ts.srv.Shutdown(ctx))
		require.NoError(t, <-ts.served)
	})
	c := connectRaw(t, ts.addr)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = 'x'
	}
	query := "SELECT '" + string(big) + "'"
	raw, err := (&pgproto3.Query{String: query}).Encode(nil)
	require.NoError(t, err)
	for len(raw) > 0 {
		n := min(len(raw), 300<<10)
		_, err := c.nc.Write(raw[:n])
		require.NoError(t, err)
		raw = raw[n:]
		time.Sleep(50 * time.Millisecond)
	}
	msgs := c.until('Z')
	require.Equal(t, "TDCZ", types(msgs))
	require.Equal(t, []string{string(big)}, dataRow(msgs[1]))
}
