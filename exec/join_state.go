package exec

import (
	"encoding/binary"

	"github.com/weirdb/weir/internal/delta"
)

// The joins' states (version 1) are their arrangements (see appendArrangement), left
// then right; HashJoin adds its expiry index, SemiJoin the right input's counts per key
// and, for NOT IN, its NULL and total counts and what the output reflects.

// AppendState appends both inputs' arrangements and the expiry index to dst.
func (j *HashJoin) AppendState(dst []byte) []byte {
	dst = append(dst, stateVersion)
	dst = appendArrangement(dst, &j.arr[0])
	dst = appendArrangement(dst, &j.arr[1])
	return appendExpiryIndex(dst, &j.expiryIdx)
}

// LoadState replaces the join's state with the one saved in p.
func (j *HashJoin) LoadState(p []byte) error {
	if j.err != nil {
		return j.err
	}
	r := delta.NewStateReader(p)
	readVersion(r, "HashJoin")
	readArrangement(r, &j.arr[0], j.left, j.keys[0], false)
	readArrangement(r, &j.arr[1], j.right, j.keys[1], false)
	readExpiryIndex(r, &j.expiryIdx)
	return finish(r)
}

// AppendState appends both inputs' arrangements, with their match counts, to dst.
func (j *OuterJoin) AppendState(dst []byte) []byte {
	dst = append(dst, stateVersion)
	dst = appendArrangement(dst, &j.arr[0])
	return appendArrangement(dst, &j.arr[1])
}

// LoadState replaces the join's state with the one saved in p.
func (j *OuterJoin) LoadState(p []byte) error {
	if j.err != nil {
		return j.err
	}
	r := delta.NewStateReader(p)
	readVersion(r, j.name())
	readArrangement(r, &j.arr[0], j.left, j.keys[0], false)
	readArrangement(r, &j.arr[1], j.right, j.keys[1], false)
	return finish(r)
}

// AppendState appends the left rows, the right rows or counts and the NOT IN flags to
// dst.
func (s *SemiJoin) AppendState(dst []byte) []byte {
	dst = append(dst, stateVersion)
	dst = appendArrangement(dst, &s.lrows)
	dst = appendArrangement(dst, &s.rrows)
	dst = binary.AppendUvarint(dst, uint64(len(s.rcount)))
	for k, n := range s.rcount {
		dst = delta.AppendStateBytes(dst, k)
		dst = binary.AppendVarint(dst, n)
	}
	dst = binary.AppendVarint(dst, s.rnull)
	dst = binary.AppendVarint(dst, s.rtotal)
	dst = appendBool(dst, s.shownEmpty)
	return appendBool(dst, s.shownNull)
}

// LoadState replaces the join's state with the one saved in p.
func (s *SemiJoin) LoadState(p []byte) error {
	if s.err != nil {
		return s.err
	}
	r := delta.NewStateReader(p)
	readVersion(r, s.name())
	readArrangement(r, &s.lrows, s.left, s.keys[0], s.notIn)
	readArrangement(r, &s.rrows, s.right, s.keys[1], s.notIn)
	n := r.Count(2)
	s.rcount = make(map[string]int64, n)
	for range n {
		k, c := r.String(), r.Varint()
		if _, dup := s.rcount[k]; r.Err() == nil && (dup || c == 0) {
			r.Failf("bad right count")
		}
		s.rcount[k] = c
	}
	s.rnull, s.rtotal = r.Varint(), r.Varint()
	s.shownEmpty, s.shownNull = r.Bool(), r.Bool()
	return finish(r)
}
