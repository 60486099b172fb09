package viewstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// A source's history is append-only, and most of what it costs DuckDB to keep is not the
// insert but the commit and the checkpoints after it: writing the rows to DuckDB's log,
// then compressing them into the database file (BenchmarkBidInsert/150000: about 0.5 µs
// a row to insert, 3.4 µs to commit and checkpoint, on the 2-core benchmark machine). A
// flush that carries at least SegmentMinRows rows of a source therefore writes them as a
// Parquet file of their own, a segment, instead: DuckDB's COPY TO writes it straight from
// the batches, and no checkpoint rewrites it (/segment: about 1 µs a row in all; the
// merges below rewrite a row a few times over its life, beside the flushes). The
// same goes for the rows a view's bag appended (a view that has only gained rows, such
// as a filter over a source).
//
// The relation's DuckDB table then becomes its tail (renamed weir_rows_<id>), which keeps
// the rows of smaller flushes, and the relation's name becomes a DuckDB view of the tail
// and every segment. The view is replaced, and the segment recorded in weir_segments, in
// the flush's transaction, so a reader sees a segment's rows exactly when it sees the
// tick that wrote them. A segment is synced to disk before that transaction commits; a
// segment whose transaction did not commit is deleted (at once, or when the store next
// opens). Reads, backfills and recovery read the relation by its name and do not know.
// A view that must delete rows (DeleteMatching, Truncate) becomes a table again first.
//
// Segments are merged by size, so that a relation written at a high rate for hours has
// tens of them, not thousands (each one a path in its view's SQL and a file every scan
// opens): a tier is the power of SegmentFanout of a segment's rows over SegmentMinRows,
// and when a relation has SegmentFanout segments of one tier, MergeSegments (which a
// background loop of the database calls every second) rewrites them as one. Each row
// is rewritten about log8(rows / 100,000) times in all, and a tier keeps fewer than 8
// segments. The files a merge replaces, and those of a dropped relation, are deleted
// SegmentGrace after the commit that retired them (or when the store opens or closes),
// so that a read still running on an older snapshot finds them: DuckDB opens a file
// only when its scan reaches it.

// SegmentMinRows is the fewest rows of one relation a flush writes as a segment
// (WEIR_SEGMENT_MIN_ROWS overrides it, for tests: every flush path then makes segments).
var SegmentMinRows = segmentMinRows()

func segmentMinRows() int {
	if n, err := strconv.Atoi(os.Getenv("WEIR_SEGMENT_MIN_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// SegmentFanout is how many segments of one tier a merge rewrites as one.
const SegmentFanout = 8

// SegmentGrace is how long the files of retired segments stay on disk (tests set 0).
var SegmentGrace = 10 * time.Minute

// segmentTier is the tier of a segment of rows rows: 0 below SegmentFanout times
// SegmentMinRows, 1 below SegmentFanout² times, and so on.
func segmentTier(rows int64) int {
	tier := 0
	for limit := int64(SegmentMinRows) * SegmentFanout; rows >= limit && tier < 30; limit *= SegmentFanout {
		tier++
	}
	return tier
}

// SegmentsTable records every segment: the relation it belongs to, the relation's tail
// table, the file (in the store's segments directory) and its rows.
const SegmentsTable = "weir_segments"

// segRel is a relation stored in segments: its tail table and its segment files, oldest
// first. It is replaced, never modified, so a Tx can hold the next one until it commits.
type segRel struct {
	tail  string
	files []string
	rows  []int64 // rows[i] is how many rows files[i] holds
}

// segmentCol is a column of a segmented relation's view: its name and DuckDB type.
type segmentCol struct{ name, typ string }

// segmentable reports whether rows appended to rel may go into segments: a source or a
// view (InsertBatches takes a view's rows when its bag only appended them) of the store
// on disk whose every column Parquet holds exactly (DuckDB writes an INTERVAL in
// milliseconds, and a DECIMAL column is left to the table for want of a test).
func (t *Tx) segmentable(rel *catalog.Relation) bool {
	return t.s.segDir != "" && (rel.Kind == catalog.Source || rel.Kind == catalog.View) && CanLend(rel.Columns)
}

// segRel returns the segments of the relation named name as of this transaction; nil when
// it has none.
func (t *Tx) segRel(name string) *segRel {
	if sr, ok := t.segNew[name]; ok {
		return sr
	}
	t.s.segMu.Lock()
	defer t.s.segMu.Unlock()
	return t.s.segs[name]
}

// table returns the name of the DuckDB table that takes rel's inserts: its tail once it
// has segments.
func (t *Tx) table(rel *catalog.Relation) string {
	if sr := t.segRel(rel.Name); sr != nil {
		return sr.tail
	}
	return rel.Name
}

// unsegment makes the segmented relation rel a table again, for a delete: with keep, the
// table holds every row of the view of its tail and segments (a view that only ever
// gained rows and now loses some: this copies it once); without, it is empty (a view
// about to be written afresh). The segments go once the transaction commits.
func (t *Tx) unsegment(rel *catalog.Relation, keep bool) error {
	sr := t.segRel(rel.Name)
	if sr == nil {
		return nil
	}
	table := sr.tail
	if keep {
		table = sr.tail + "_whole"
		if err := t.Exec(`CREATE TABLE ` + Quote(table) + ` AS SELECT * FROM ` + Quote(rel.Name)); err != nil {
			return err
		}
	} else if err := t.Exec(`DELETE FROM ` + Quote(sr.tail)); err != nil {
		return err
	}
	if err := t.Exec(`DROP VIEW ` + Quote(rel.Name)); err != nil {
		return err
	}
	if keep {
		if err := t.Exec(`DROP TABLE ` + Quote(sr.tail)); err != nil {
			return err
		}
	}
	if err := t.Exec(`ALTER TABLE ` + Quote(table) + ` RENAME TO ` + Quote(rel.Name)); err != nil {
		return err
	}
	return t.forgetSegments(rel.Name, sr)
}

// segmentFormat is how segments are written: Parquet's version 2 encodings (delta
// encodings for integers and strings) and no dictionaries. DuckDB's default (version 1,
// a dictionary wherever a column's values repeat enough) spent much of a write deciding
// on and building dictionaries that a history's mostly distinct values rarely use.
// BenchmarkBidInsert/150000/segment, default → this, 2 runs each: insert 724–726 →
// 492–501 ns a row, files 55.3 → 49.7 bytes a row, a scan of every column 158–162 →
// 118 ns a row.
const segmentFormat = "FORMAT parquet, PARQUET_VERSION V2, DICTIONARY_SIZE_LIMIT 1"

// writeSegment writes bs's rows (n of them, each repeated by its positive weight) as a
// new segment of rel. ok is false, and nothing is written, when the batches cannot be
// lent to DuckDB.
func (t *Tx) writeSegment(rel *catalog.Relation, bs []*delta.Batch, n int) (ok bool, err error) {
	token, release, ok := t.s.LendBatches(0, rel.Columns, bs, nil)
	if !ok {
		return false, nil
	}
	defer release()
	if err := os.MkdirAll(t.s.segDir, 0o755); err != nil {
		return true, sqlerr.Wrap(err, sqlerr.IOError, "create segments directory %q", t.s.segDir)
	}
	cols := make([]segmentCol, len(rel.Columns))
	for i, c := range rel.Columns {
		cols[i] = segmentCol{c.Name, c.DuckDB()}
	}
	file, path := t.newSegmentFile(rel)
	if err := t.Exec(fmt.Sprintf(`COPY (SELECT %s FROM weir_batch(%d)) TO %s (%s)`, segmentSelect(cols), token, quoteString(path), segmentFormat)); err != nil {
		return true, err
	}
	if err := syncPath(path); err != nil {
		return true, sqlerr.Wrap(err, sqlerr.IOError, "sync segment %q", path)
	}
	cur := t.segRel(rel.Name)
	next := &segRel{tail: fmt.Sprintf("weir_rows_%d", rel.ID)}
	if cur != nil {
		next.tail, next.files, next.rows = cur.tail, slices.Clone(cur.files), slices.Clone(cur.rows)
	} else if err := t.Exec(`ALTER TABLE ` + Quote(rel.Name) + ` RENAME TO ` + Quote(next.tail)); err != nil {
		return true, err
	}
	next.files, next.rows = append(next.files, file), append(next.rows, int64(n))
	if err := t.Exec(`INSERT INTO `+SegmentsTable+` VALUES (?, ?, ?, ?)`, rel.Name, next.tail, file, int64(n)); err != nil {
		return true, err
	}
	if err := t.Exec(`CREATE OR REPLACE VIEW ` + Quote(rel.Name) + ` AS ` + t.s.segmentView(next, cols)); err != nil {
		return true, err
	}
	if t.segNew == nil {
		t.segNew = map[string]*segRel{}
	}
	t.segNew[rel.Name] = next
	return true, nil
}

// newSegmentFile returns the path of a new segment file of rel, noted as written by the
// transaction (deleted if it does not commit).
func (t *Tx) newSegmentFile(rel *catalog.Relation) (file, path string) {
	file = fmt.Sprintf("%d-%016x.parquet", rel.ID, rand.Uint64())
	path = filepath.Join(t.s.segDir, file)
	t.segWritten = append(t.segWritten, path)
	return file, path
}

// mergePlan is SegmentFanout segments of one tier of a relation, to be rewritten as one.
type mergePlan struct {
	name  string
	files []string
	rows  int64
}

// planMerge returns the oldest SegmentFanout segments of the lowest tier that has that
// many, of any relation; ok false when no tier does.
func (s *Store) planMerge() (p mergePlan, ok bool) {
	s.segMu.Lock()
	defer s.segMu.Unlock()
	best := -1
	for name, sr := range s.segs {
		byTier := map[int][]int{}
		for i, r := range sr.rows {
			tier := segmentTier(r)
			byTier[tier] = append(byTier[tier], i)
			if len(byTier[tier]) != SegmentFanout || (best >= 0 && tier >= best) {
				continue
			}
			best, p = tier, mergePlan{name: name}
			for _, j := range byTier[tier] {
				p.files = append(p.files, sr.files[j])
				p.rows += sr.rows[j]
			}
		}
	}
	return p, best >= 0
}

// MergeSegments merges one set of SegmentFanout segments of a tier into one, if some
// relation has them (see the top of this file), and reports whether it did. It writes
// the merged file on a reader connection, while flushes go on; then, between lock and
// its unlock (the caller's exclusion of every other writer), it swaps the file in, in a
// transaction of its own that leaves the store's tick as it is. A relation dropped or
// changed meanwhile keeps its segments, and the merged file is deleted.
func (s *Store) MergeSegments(ctx context.Context, lock func() (unlock func())) (bool, error) {
	p, ok := s.planMerge()
	if !ok {
		return false, nil
	}
	file := fmt.Sprintf("merged-%016x.parquet", rand.Uint64())
	path := filepath.Join(s.segDir, file)
	paths := make([]string, len(p.files))
	for i, f := range p.files {
		paths[i] = quoteString(filepath.Join(s.segDir, f))
	}
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf(`COPY (SELECT * FROM read_parquet([%s])) TO %s (%s)`, strings.Join(paths, ", "), quoteString(path), segmentFormat)); err != nil {
		s.removeFiles([]string{path})
		return false, sqlerr.Wrap(err, sqlerr.Internal, "merge segments of %q", p.name)
	}
	if err := syncPath(path); err != nil {
		s.removeFiles([]string{path})
		return false, sqlerr.Wrap(err, sqlerr.IOError, "sync segment %q", path)
	}
	unlock := lock()
	defer unlock()
	tx, err := s.Begin(ctx)
	if err != nil {
		s.removeFiles([]string{path})
		return false, err
	}
	tx.segWritten = append(tx.segWritten, path)
	cur := tx.segRel(p.name)
	if cur == nil || !containsAll(cur.files, p.files) {
		tx.Rollback()
		return false, nil
	}
	next := &segRel{tail: cur.tail}
	for i, f := range cur.files {
		if !slices.Contains(p.files, f) {
			next.files, next.rows = append(next.files, f), append(next.rows, cur.rows[i])
		}
	}
	next.files, next.rows = append(next.files, file), append(next.rows, p.rows)
	cols, err := s.tableColumns(ctx, cur.tail)
	if err == nil {
		names := make([]any, len(p.files))
		for i, f := range p.files {
			names[i] = f
		}
		in := strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ")
		err = errors.Join(
			tx.Exec(`DELETE FROM `+SegmentsTable+` WHERE relation = ? AND file IN (`+in+`)`, append([]any{p.name}, names...)...),
			tx.Exec(`INSERT INTO `+SegmentsTable+` VALUES (?, ?, ?, ?)`, p.name, cur.tail, file, p.rows),
			tx.Exec(`CREATE OR REPLACE VIEW `+Quote(p.name)+` AS `+s.segmentView(next, cols)))
	}
	if err != nil {
		tx.Rollback()
		return false, err
	}
	for _, f := range p.files {
		tx.segDropped = append(tx.segDropped, filepath.Join(s.segDir, f))
	}
	tx.segNew = map[string]*segRel{p.name: next}
	return true, tx.commit("merge segments of " + strconv.Quote(p.name))
}

// containsAll reports whether every one of want is in have.
func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// segmentSelect is the select list that gives a segment's columns their relation's types.
func segmentSelect(cols []segmentCol) string {
	items := make([]string, len(cols))
	for i, c := range cols {
		items[i] = "CAST(" + Quote(c.name) + " AS " + c.typ + ") AS " + Quote(c.name)
	}
	return strings.Join(items, ", ")
}

// segmentView is the query of a segmented relation's view: its tail and its segments.
func (s *Store) segmentView(sr *segRel, cols []segmentCol) string {
	paths := make([]string, len(sr.files))
	for i, f := range sr.files {
		paths[i] = quoteString(filepath.Join(s.segDir, f))
	}
	return `SELECT * FROM main.` + Quote(sr.tail) + ` UNION ALL SELECT ` + segmentSelect(cols) + ` FROM read_parquet([` + strings.Join(paths, ", ") + `])`
}

// dropSegments drops relation name's view, tail and segment records in the transaction;
// its files go once it commits. false when it has no segments.
func (t *Tx) dropSegments(name string) (bool, error) {
	sr := t.segRel(name)
	if sr == nil {
		return false, nil
	}
	for _, q := range []string{`DROP VIEW IF EXISTS ` + Quote(name), `DROP TABLE IF EXISTS ` + Quote(sr.tail)} {
		if err := t.Exec(q); err != nil {
			return true, err
		}
	}
	return true, t.forgetSegments(name, sr)
}

// forgetSegments deletes the records of relation name's segments sr, whose files go once
// the transaction commits.
func (t *Tx) forgetSegments(name string, sr *segRel) error {
	if err := t.Exec(`DELETE FROM `+SegmentsTable+` WHERE relation = ?`, name); err != nil {
		return err
	}
	for _, f := range sr.files {
		t.segDropped = append(t.segDropped, filepath.Join(t.s.segDir, f))
	}
	if t.segNew == nil {
		t.segNew = map[string]*segRel{}
	}
	t.segNew[name] = nil
	return nil
}

// segmentsDurable syncs the segments directory, so that the names of the segments the
// transaction wrote survive a crash once it commits.
func (t *Tx) segmentsDurable() error {
	if len(t.segWritten) == 0 {
		return nil
	}
	if err := syncPath(t.s.segDir); err != nil {
		return sqlerr.Wrap(err, sqlerr.IOError, "sync segments directory %q", t.s.segDir)
	}
	return nil
}

// segmentsCommitted makes the transaction's segments the store's and deletes the
// segments of the relations it dropped or made tables again. A read of such a relation
// still running on an older snapshot fails if it reaches a deleted file only now (DuckDB
// opens each file as its scan comes to it); PostgreSQL would have made the DROP wait.
func (t *Tx) segmentsCommitted() {
	if t.segNew == nil {
		return
	}
	t.s.segMu.Lock()
	for name, sr := range t.segNew {
		if sr == nil {
			delete(t.s.segs, name)
		} else {
			t.s.segs[name] = sr
		}
	}
	if len(t.segDropped) > 0 {
		t.s.retired = append(t.s.retired, retiredFiles{at: time.Now(), paths: t.segDropped})
	}
	t.s.segMu.Unlock()
	t.s.sweepSegments(false)
	t.segNew, t.segWritten, t.segDropped = nil, nil, nil
}

// retiredFiles are the files of segments a commit at at replaced or dropped.
type retiredFiles struct {
	at    time.Time
	paths []string
}

// sweepSegments deletes the retired files older than SegmentGrace; with all, every one.
func (s *Store) sweepSegments(all bool) {
	s.segMu.Lock()
	var due []string
	keep := s.retired[:0]
	for _, r := range s.retired {
		if all || time.Since(r.at) >= SegmentGrace {
			due = append(due, r.paths...)
		} else {
			keep = append(keep, r)
		}
	}
	s.retired = keep
	s.segMu.Unlock()
	s.removeFiles(due)
}

// segmentsAbandoned deletes the segments a transaction that did not commit wrote.
func (t *Tx) segmentsAbandoned() {
	t.s.removeFiles(t.segWritten)
	t.segNew, t.segWritten, t.segDropped = nil, nil, nil
}

func (s *Store) removeFiles(paths []string) {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) && s.logger != nil {
			s.logger.Warn("remove segment", "file", p, "err", err)
		}
	}
}

// openSegments loads the segments of the store at path, deletes the files no committed
// transaction recorded, and points each segmented relation's view at the segments
// directory as it is now (the data directory may have moved). A recorded segment that is
// missing fails the open: the rows it held are lost.
func (s *Store) openSegments(ctx context.Context, path string) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+SegmentsTable+` (relation VARCHAR NOT NULL, tail VARCHAR NOT NULL, file VARCHAR NOT NULL, "rows" BIGINT NOT NULL)`); err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "initialise DuckDB")
	}
	s.segs = map[string]*segRel{}
	if path == "" {
		return nil
	}
	s.segDir = filepath.Join(filepath.Dir(path), "segments")
	rows, err := s.db.QueryContext(ctx, `SELECT relation, tail, file, "rows" FROM `+SegmentsTable+` ORDER BY rowid`)
	if err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "load %s", SegmentsTable)
	}
	known := map[string]bool{}
	var order []string
	for rows.Next() {
		var name, tail, file string
		var n int64
		if err := rows.Scan(&name, &tail, &file, &n); err != nil {
			rows.Close()
			return sqlerr.Wrap(err, sqlerr.Internal, "load %s", SegmentsTable)
		}
		sr := s.segs[name]
		if sr == nil {
			sr = &segRel{tail: tail}
			s.segs[name] = sr
			order = append(order, name)
		}
		sr.files, sr.rows = append(sr.files, file), append(sr.rows, n)
		known[file] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "load %s", SegmentsTable)
	}
	entries, err := os.ReadDir(s.segDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return sqlerr.Wrap(err, sqlerr.IOError, "read segments directory %q", s.segDir)
	}
	for _, e := range entries {
		if !known[e.Name()] {
			if err := os.Remove(filepath.Join(s.segDir, e.Name())); err != nil {
				return sqlerr.Wrap(err, sqlerr.IOError, "remove uncommitted segment %q", e.Name())
			}
		}
	}
	for _, name := range order {
		sr := s.segs[name]
		for _, f := range sr.files {
			if _, err := os.Stat(filepath.Join(s.segDir, f)); err != nil {
				return sqlerr.Wrap(err, sqlerr.DataCorrupted, "segment %q of %q", f, name)
			}
		}
		cols, err := s.tableColumns(ctx, sr.tail)
		if err != nil {
			return err
		}
		if _, err := s.w.ExecContext(ctx, `CREATE OR REPLACE VIEW `+Quote(name)+` AS `+s.segmentView(sr, cols)); err != nil {
			return sqlerr.Wrap(err, sqlerr.Internal, "view of %q", name)
		}
	}
	return nil
}

// tableColumns returns a DuckDB table's columns.
func (s *Store) tableColumns(ctx context.Context, table string) ([]segmentCol, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index`, table)
	if err != nil {
		return nil, sqlerr.Wrap(err, sqlerr.Internal, "columns of %q", table)
	}
	defer rows.Close()
	var cols []segmentCol
	for rows.Next() {
		var c segmentCol
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			return nil, sqlerr.Wrap(err, sqlerr.Internal, "columns of %q", table)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, sqlerr.Wrap(err, sqlerr.Internal, "columns of %q", table)
	}
	if len(cols) == 0 {
		return nil, sqlerr.New(sqlerr.DataCorrupted, "segmented relation's table %q is missing", table)
	}
	return cols, nil
}

// syncPath fsyncs a file or directory.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

// quoteString quotes s as a SQL string literal.
func quoteString(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
