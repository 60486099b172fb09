package exec

import (
	"encoding/binary"
	"slices"

	"github.com/weirdb/weir/internal/delta"
)

// TopN and WindowAgg keep their rows in partitions by the encoding of the partition
// columns, and the partitions a tick changed in a dirty list (in the order they became
// dirty) that Advance works through. These are the parts of that bookkeeping they share.

// partHead is what every partition has: its key and whether it is in the dirty list.
type partHead struct {
	key   string
	dirty bool
}

func (h *partHead) head() *partHead { return h }

// partition is a partition type (a pointer to a struct embedding partHead).
type partition interface{ head() *partHead }

// partitionOf returns the partition of key in parts, made by newPart when there is none
// (created reports it), and puts it in the dirty list if it is not there yet.
func partitionOf[P partition](parts map[string]P, dirty *[]P, key []byte, newPart func(key string) P) (p P, created bool) {
	p, ok := parts[string(key)]
	if !ok {
		p = newPart(string(key))
		parts[p.head().key] = p
		created = true
	}
	if h := p.head(); !h.dirty {
		h.dirty = true
		*dirty = append(*dirty, p)
	}
	return p, created
}

// appendPartitions appends the partition counts and every partition, the dirty ones
// first in their order and then the others by key, each as appendPart writes it
// (starting with its key). The same state always encodes to the same bytes.
func appendPartitions[P partition](dst []byte, parts map[string]P, dirty []P, appendPart func([]byte, P) []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(parts)))
	dst = binary.AppendUvarint(dst, uint64(len(dirty)))
	for _, p := range dirty {
		dst = appendPart(dst, p)
	}
	clean := make([]string, 0, len(parts)-len(dirty))
	for key, p := range parts {
		if !p.head().dirty {
			clean = append(clean, key)
		}
	}
	slices.Sort(clean)
	for _, key := range clean {
		dst = appendPart(dst, parts[key])
	}
	return dst
}

// loadPartitions reads what appendPartitions wrote: newPart makes a partition of a key
// and readPart reads the rest of it. dirty is reused.
func loadPartitions[P partition](r *delta.StateReader, dirty []P, newPart func(key string) P, readPart func(P)) (map[string]P, []P, error) {
	n := r.Count(3)
	nDirty := r.Count(0)
	if r.Err() == nil && nDirty > n {
		r.Failf("%d dirty partitions of %d", nDirty, n)
	}
	parts := make(map[string]P, n)
	dirty = dirty[:0]
	for i := range n {
		part := newPart(r.String())
		h := part.head()
		if _, dup := parts[h.key]; dup {
			r.Failf("duplicate partition")
		}
		readPart(part)
		if r.Err() != nil {
			return nil, nil, r.Err()
		}
		parts[h.key] = part
		if i < nDirty {
			h.dirty = true
			dirty = append(dirty, part)
		}
	}
	return parts, dirty, r.Err()
}
