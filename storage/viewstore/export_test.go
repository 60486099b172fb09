package viewstore

import "time"

// SetRawFill turns weir_batch's direct vector writes on or off (rawchunk.go) and
// returns the previous setting.
func SetRawFill(on bool) bool {
	was := rawFill
	rawFill = on
	return was
}

// RawColumns is how many column chunks weir_batch has written directly.
func RawColumns() int64 { return rawColumns.Load() }

// SetSegmentMinRows sets SegmentMinRows for a test and restores it after.
func SetSegmentMinRows(t interface{ Cleanup(func()) }, n int) {
	was := SegmentMinRows
	SegmentMinRows = n
	t.Cleanup(func() { SegmentMinRows = was })
}

// SetSegmentGrace sets SegmentGrace for a test and restores it after.
func SetSegmentGrace(t interface{ Cleanup(func()) }, d time.Duration) {
	was := SegmentGrace
	SegmentGrace = d
	t.Cleanup(func() { SegmentGrace = was })
}

// SetRawScan turns Scan's raw reads on or off (rawscan.go) and returns the previous
// setting.
func SetRawScan(on bool) bool {
	was := rawScan
	rawScan = on
	return was
}

// RawScans is how many scans were read raw.
func RawScans() int64 { return rawScans.Load() }
