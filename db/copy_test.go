package db_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
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

// binaryCopyRow encodes one row of binary COPY data: each field is nil (NULL) or its
// bytes as sent.
func binaryCopyRow(fields ...[]byte) string {
	var b []byte
	b = binary.BigEndian.AppendUint16(b, uint16(len(fields)))
	for _, f := range fields {
		if f == nil {
			b = binary.BigEndian.AppendUint32(b, 0xffffffff)
			continue
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return string(b)
}

// TestCopyBinaryDirect: binary COPY into a source whose columns all have a direct
// appender (smallint, integer, bigint, double precision, timestamptz, text) stores what
// the same rows in text format store, NULLs between direct rows included; a field the
// direct path cannot take gets the general path's error, and the COPY stores nothing.
func TestCopyBinaryDirect(t *testing.T) {
	_, s := openCopyDB(t)
	cols := "(a smallint, b integer, c bigint NOT NULL, d double precision, e timestamptz, f text)"
	execAll(t, s, "CREATE SOURCE bin "+cols, "CREATE SOURCE txt "+cols)
	const header, trailer = "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00", "\xff\xff"
	i2 := func(v int16) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
	i4 := func(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }
	i8 := func(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
	f8 := func(v float64) []byte { return binary.BigEndian.AppendUint64(nil, math.Float64bits(v)) }
	ts := func(s string) []byte {
		at, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return i8(at.UnixMicro() - 946684800000000)
	}
	bin := header +
		binaryCopyRow(i2(-2), i4(40000), i8(1<<40), f8(0.25), ts("2026-03-04T05:06:07.891Z"), []byte("héllo")) +
		binaryCopyRow(nil, nil, i8(2), nil, nil, nil) +
		binaryCopyRow(i2(7), i4(-1), i8(3), f8(-1e300), ts("1900-01-01T00:00:00.000001Z"), []byte("")) +
		binaryCopyRow(i2(32767), nil, i8(4), f8(2), nil, []byte("tab\there")) +
		binaryCopyRow(i2(5), i4(5), i8(5), f8(5), ts("2026-01-01T00:00:00Z"), []byte("five")) +
		trailer
	text := "-2\t40000\t1099511627776\t0.25\t2026-03-04 05:06:07.891+00\théllo\n" +
		"\\N\t\\N\t2\t\\N\t\\N\t\\N\n" +
		"7\t-1\t3\t-1e300\t1900-01-01 00:00:00.000001+00\t\n" +
		"32767\t\\N\t4\t2\t\\N\ttab\\there\n" +
		"5\t5\t5\t5\t2026-01-01 00:00:00+00\tfive\n"
	n, err := copyFrom(t, s, "COPY bin FROM STDIN (FORMAT binary)", bin)
	require.NoError(t, err)
	require.Equal(t, int64(5), n)
	_, err = copyFrom(t, s, "COPY txt FROM STDIN", text)
	require.NoError(t, err)
	q := "SELECT a, b, c, d, e, f, f IS NULL FROM %s ORDER BY c"
	want := readRows(t, s, fmt.Sprintf(q, "txt"), nil, true)
	require.Len(t, want, 5)
	require.Equal(t, want, readRows(t, s, fmt.Sprintf(q, "bin"), nil, true))

	for _, c := range []struct {
		name, row string
		code      sqlerr.Code
		where     string
	}{
		{"invalid utf8", binaryCopyRow(i2(1), i4(1), i8(9), f8(1), ts("2026-01-01T00:00:00Z"), []byte("b\xff")), sqlerr.CharacterNotInRepertoire, "column f"},
		{"infinite timestamp", binaryCopyRow(i2(1), i4(1), i8(9), f8(1), i8(math.MaxInt64), []byte("x")), sqlerr.FeatureNotSupported, "column e"},
		{"short integer", binaryCopyRow(i2(1), []byte{0, 0, 1}, i8(9), f8(1), nil, nil), sqlerr.ProtocolViolation, "column b"},
		{"long smallint", binaryCopyRow(i4(1), i4(1), i8(9), f8(1), nil, nil), sqlerr.InvalidBinaryRepresentation, "column a"},
		{"not null", binaryCopyRow(i2(1), i4(1), nil, f8(1), nil, nil), sqlerr.NotNullViolation, ""},
	} {
		good := binaryCopyRow(i2(1), i4(1), i8(8), f8(1), nil, []byte("ok"))
		_, err := copyFrom(t, s, "COPY bin FROM STDIN (FORMAT binary)", header+good+c.row+trailer)
		e := sqlerr.As(err)
		require.Equal(t, c.code, e.Code, "%s: %v", c.name, err)
		require.Contains(t, e.Where+" "+e.Detail, "line 2", c.name)
		require.Contains(t, e.Where+" "+e.Detail, c.where, c.name)
		require.Equal(t, int64(5), count(t, s, "SELECT count(*) FROM bin"), c.name)
	}
}
