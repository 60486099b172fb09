package db_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/pgcopy"
	"github.com/weirdb/weir/internal/sqlerr"
)

// copyBenchRows is the size of one COPY in BenchmarkCopyIn, made of copyBenchBlock
// rows repeated.
const (
	copyBenchRows  = 1_000_000
	copyBenchBlock = 100_000
)

// copyBenchData returns n rows of (id bigint, room bigint, name text, ts timestamptz)
// in COPY's text or binary format, without the binary header and trailer.
func copyBenchData(n int, binaryFormat bool) []byte {
	var buf bytes.Buffer
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var b [8]byte
	for i := range n {
		ts := base.Add(time.Duration(i) * time.Millisecond)
		name := "user_" + strconv.Itoa(i%5000)
		if !binaryFormat {
			buf.WriteString(strconv.Itoa(i))
			buf.WriteByte('\t')
			buf.WriteString(strconv.Itoa(i % 100))
			buf.WriteByte('\t')
			buf.WriteString(name)
			buf.WriteByte('\t')
			buf.WriteString(ts.Format("2006-01-02 15:04:05.000-07"))
			buf.WriteByte('\n')
			continue
		}
		buf.Write([]byte{0, 4})
		for _, v := range []int64{int64(i), int64(i % 100)} {
			buf.Write([]byte{0, 0, 0, 8})
			binary.BigEndian.PutUint64(b[:], uint64(v))
			buf.Write(b[:])
		}
		binary.BigEndian.PutUint32(b[:4], uint32(len(name)))
		buf.Write(b[:4])
		buf.WriteString(name)
		buf.Write([]byte{0, 0, 0, 8})
		binary.BigEndian.PutUint64(b[:], uint64(ts.UnixMicro()-946684800000000))
		buf.Write(b[:])
	}
	return buf.Bytes()
}

// copyStream is COPY data as the wire delivers it: 64 KiB pieces of a header, a block
// of rows repeated, and a trailer.
type copyStream struct{ parts [][]byte }

func newCopyStream(block []byte, rows int, binaryFormat bool) *copyStream {
	s := &copyStream{}
	if binaryFormat {
		s.parts = append(s.parts, []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	}
	for range rows / copyBenchBlock {
		s.parts = append(s.parts, block)
	}
	if binaryFormat {
		s.parts = append(s.parts, []byte{0xff, 0xff})
	}
	return s
}

func (s *copyStream) Read(p []byte) (int, error) {
	for len(s.parts) > 0 && len(s.parts[0]) == 0 {
		s.parts = s.parts[1:]
	}
	if len(s.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 64<<10)], s.parts[0])
	s.parts[0] = s.parts[0][n:]
	return n, nil
}

// peakHeap samples the heap in use until stop is closed and returns its peak, in MiB.
func peakHeap(stop <-chan struct{}) <-chan float64 {
	out := make(chan float64, 1)
	go func() {
		var peak uint64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				out <- float64(peak) / (1 << 20)
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

func execAll(t testing.TB, s *db.Session, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		p, err := s.Prepare(context.Background(), q, nil)
		require.NoError(t, err, q)
		_, err = p.Execute(context.Background(), nil)
		require.NoError(t, err, q)
	}
}

// BenchmarkCopyIn measures COPY … FROM STDIN of 1M rows of (bigint, bigint, text,
// timestamptz) into a source, parsed from COPY data as the wire delivers it and applied
// in ticks of db.CopyChunkRows rows, with no view and with one aggregate view. Reported as
// rows/s, and heapMB: the peak Go heap during the COPY (the input is a 100k-row block
// sent ten times, so the COPY's own working set dominates). B/op and allocs/op are per
// COPY of 1M rows. WEIR_COPY_BENCH_ROWS changes the COPY's size, to show that memory
// does not grow with it.
func BenchmarkCopyIn(b *testing.B) {
	rows := copyBenchRows
	if s := os.Getenv("WEIR_COPY_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(b, err)
		rows = n / copyBenchBlock * copyBenchBlock
	}
	for _, format := range []string{"text", "binary"} {
		block := copyBenchData(copyBenchBlock, format == "binary")
		for _, views := range []int{0, 1} {
			b.Run(fmt.Sprintf("format=%s/views=%d", format, views), func(b *testing.B) {
				ctx := context.Background()
				d, err := db.Open(ctx, db.Config{Dir: b.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
				require.NoError(b, err)
				defer d.Close()
				s := d.NewSession(nil)
				execAll(b, s, `CREATE SOURCE events (id bigint NOT NULL, room bigint, name text, ts timestamptz)`)
				if views > 0 {
					execAll(b, s, `CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n, sum(id) AS s, max(ts) AS last FROM events GROUP BY room`)
				}
				q := "COPY events FROM STDIN"
				if format == "binary" {
					q += " (FORMAT binary)"
				}
				p, err := s.Prepare(ctx, q, nil)
				require.NoError(b, err)
				runtime.GC()
				b.ReportAllocs()
				stop := make(chan struct{})
				peak := peakHeap(stop)
				for b.Loop() {
					n, err := p.CopyFrom(ctx, newCopyStream(block, rows, format == "binary"))
					require.NoError(b, err)
					require.Equal(b, int64(rows), n)
				}
				close(stop)
				b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(<-peak, "heapMB")
			})
		}
	}
}

func openCopyDB(t *testing.T) (*db.DB, *db.Session) {
	t.Helper()
	d, err := db.Open(t.Context(), db.Config{Dir: t.TempDir()}, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	s := d.NewSession(nil)
	execAll(t, s,
		`CREATE SOURCE ev (id bigint NOT NULL, room int, ts timestamptz)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n FROM ev GROUP BY room`,
		`CREATE TABLE users (id bigint PRIMARY KEY, name text)`)
	return d, s
}

func copyFrom(t *testing.T, s *db.Session, stmt, data string) (int64, error) {
	t.Helper()
	p, err := s.Prepare(t.Context(), stmt, nil)
	require.NoError(t, err)
	info, ok := p.Copy()
	require.True(t, ok)
	require.True(t, info.From)
	return p.CopyFrom(t.Context(), strings.NewReader(data))
}

func count(t *testing.T, s *db.Session, q string) int64 {
	t.Helper()
	p, err := s.Prepare(t.Context(), q, nil)
	require.NoError(t, err)
	rows, err := p.Execute(t.Context(), nil)
	require.NoError(t, err)
	defer rows.Close()
	dst := make([]any, 1)
	require.True(t, rows.Next(dst), "%v", rows.Err())
	return dst[0].(int64)
}

// TestCopyIntoSource: a COPY is one tick when it fits a chunk; a longer one is applied a
// chunk at a time, and a failure in a later chunk keeps the earlier ones and says so.
func TestCopyIntoSource(t *testing.T) {
	d, s := openCopyDB(t)
	before := d.Tick()
	n, err := copyFrom(t, s, "COPY ev (id, room) FROM STDIN", "1\t1\n2\t1\n3\t2\n")
	require.NoError(t, err)
	require.Equal(t, int64(3), n)
	require.Equal(t, before+1, d.Tick(), "one tick")
	require.Equal(t, int64(2), count(t, s, "SELECT n FROM per_room WHERE room = 1"))

	var data strings.Builder
	for i := range db.CopyChunkRows + 10 {
		fmt.Fprintf(&data, "%d\t%d\n", 100+i, i%3)
	}
	data.WriteString("x\t1\n")
	_, err = copyFrom(t, s, "COPY ev (id, room) FROM STDIN", data.String())
	e := sqlerr.As(err)
	require.Equal(t, sqlerr.InvalidTextRepresentation, e.Code)
	require.Equal(t, fmt.Sprintf("COPY ev, line %d, column id: \"x\"", db.CopyChunkRows+11), e.Where)
	require.Contains(t, e.Detail, fmt.Sprintf("The first %d rows of the COPY were applied", db.CopyChunkRows))
	require.Equal(t, int64(3+db.CopyChunkRows), count(t, s, "SELECT count(*) FROM ev"))
	require.Equal(t, int64(3+db.CopyChunkRows), count(t, s, "SELECT sum(n)::bigint FROM per_room"))
}

// TestCopyIntoTable: INSERT's semantics, all or nothing.
func TestCopyIntoTable(t *testing.T) {
	_, s := openCopyDB(t)
	n, err := copyFrom(t, s, "COPY users FROM STDIN (FORMAT csv)", "1,ann\n2,\n")
	require.NoError(t, err)
	require.Equal(t, int64(2), n)
	_, err = copyFrom(t, s, "COPY users FROM STDIN (FORMAT csv)", "3,cid\n2,bob\n")
	require.Equal(t, sqlerr.UniqueViolation, sqlerr.CodeOf(err))
	require.Equal(t, int64(2), count(t, s, "SELECT count(*) FROM users"))
	_, err = copyFrom(t, s, "COPY users (name) FROM STDIN", "nobody\n")
	require.Equal(t, sqlerr.NotNullViolation, sqlerr.CodeOf(err))
}

// TestCopyCancel: a cancelled COPY stops with the context's error and stores nothing.
func TestCopyCancel(t *testing.T) {
	_, s := openCopyDB(t)
	p, err := s.Prepare(t.Context(), "COPY ev (id) FROM STDIN", nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = p.CopyFrom(ctx, strings.NewReader(strings.Repeat("1\n", 5000)))
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, int64(0), count(t, s, "SELECT count(*) FROM ev"))
}

// TestCopyToRows: COPY … TO STDOUT executes to the rows of its query; COPY FROM STDIN
// outside the wire protocol's copy mode is refused.
func TestCopyToRows(t *testing.T) {
	_, s := openCopyDB(t)
	_, err := copyFrom(t, s, "COPY ev (id, room) FROM STDIN", "1\t5\n")
	require.NoError(t, err)
	p, err := s.Prepare(t.Context(), "COPY (SELECT id, room FROM ev) TO STDOUT (FORMAT csv)", nil)
	require.NoError(t, err)
	info, ok := p.Copy()
	require.True(t, ok)
	require.False(t, info.From)
	require.Equal(t, pgcopy.CSV, info.Options.Format)
	require.Nil(t, p.Columns(), "Describe answers NoData for COPY")
	rows, err := p.Execute(t.Context(), nil)
	require.NoError(t, err)
	defer rows.Close()
	dst := make([]any, 2)
	require.True(t, rows.Next(dst))
	require.Equal(t, []any{int64(1), int32(5)}, dst)

	_, err = s.Prepare(t.Context(), "SELECT 1", nil)
	require.NoError(t, err)
	p, err = s.Prepare(t.Context(), "COPY ev FROM STDIN", nil)
	require.NoError(t, err)
	_, err = p.Execute(t.Context(), nil)
	require.Equal(t, sqlerr.FeatureNotSupported, sqlerr.CodeOf(err))

	p, err = s.Prepare(t.Context(), "COPY (SELECT nope FROM ev) TO STDOUT", nil)
	require.NoError(t, err)
	_, err = p.Execute(t.Context(), nil)
	require.Equal(t, sqlerr.UndefinedColumn, sqlerr.CodeOf(err))
}
