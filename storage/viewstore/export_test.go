package viewstore

// SetRawFill turns weir_batch's direct vector writes on or off (rawchunk.go) and
// returns the previous setting.
func SetRawFill(on bool) bool {
	was := rawFill
	rawFill = on
	return was
}

// RawColumns is how many column chunks weir_batch has written directly.
func RawColumns() int64 { return rawColumns.Load() }
