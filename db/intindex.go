package db

// intIndex maps the non-NULL keys of a bag keyed by one integer column to their first
// row (bag.ints). It is an open-addressing table with linear probing: a slot holds its
// key and position side by side, so a lookup costs one cache miss where a Go map
// costs two (its control bytes, then its slot), and the lookups of a tick's changes
// and of a flush's keys were a quarter of their time. A removal shifts the slots of its
// probe run back, so no tombstones build up (as exec's intTable does for a set's
// counts).
type intIndex struct {
	slots []intSlot // len a power of two, at most 3/4 full
	n     int
	shift uint8 // 64 - log2(len(slots))
}

type intSlot struct {
	key int64
	pos int32 // the row's position + 1; 0: the slot is empty
}

const intIndexMinSlotsLog = 3 // an empty index has 8 slots

func newIntIndex() *intIndex {
	return &intIndex{slots: make([]intSlot, 1<<intIndexMinSlotsLog), shift: 64 - intIndexMinSlotsLog}
}

// home is the slot key's probe starts at. The mix spreads keys that differ in their low
// bits, or only above them (ids in steps of 2^k), over the whole table.
func (x *intIndex) home(key int64) int {
	h := uint64(key)
	h ^= h >> 31
	h *= 0xBF58476D1CE4E5B9
	return int(h >> x.shift)
}

// len is the number of keys (0 for a nil index).
func (x *intIndex) len() int {
	if x == nil {
		return 0
	}
	return x.n
}

// get returns key's position.
func (x *intIndex) get(key int64) (int32, bool) {
	mask := len(x.slots) - 1
	for i := x.home(key); ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.pos == 0 {
			return 0, false
		}
		if s.key == key {
			return s.pos - 1, true
		}
	}
}

// set makes p key's position.
func (x *intIndex) set(key int64, p int32) {
	if 4*(x.n+1) > 3*len(x.slots) {
		x.grow()
	}
	mask := len(x.slots) - 1
	for i := x.home(key); ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.pos == 0 {
			*s = intSlot{key: key, pos: p + 1}
			x.n++
			return
		}
		if s.key == key {
			s.pos = p + 1
			return
		}
	}
}

// del forgets key.
func (x *intIndex) del(key int64) {
	mask := len(x.slots) - 1
	i := x.home(key)
	for ; ; i = (i + 1) & mask {
		if x.slots[i].pos == 0 {
			return
		}
		if x.slots[i].key == key {
			break
		}
	}
	x.n--
	// Shift back every later slot of the run that may move into the hole: one whose home
	// is not cyclically in (hole, slot].
	for j := (i + 1) & mask; x.slots[j].pos != 0; j = (j + 1) & mask {
		h := x.home(x.slots[j].key)
		if (j-h)&mask >= (j-i)&mask {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = intSlot{}
}

// grow doubles the table.
func (x *intIndex) grow() {
	old := x.slots
	x.slots = make([]intSlot, 2*len(old))
	x.shift--
	x.n = 0
	for _, s := range old {
		if s.pos != 0 {
			x.set(s.key, s.pos-1)
		}
	}
}

// all calls yield with every key and its position, in no particular order (none for a
// nil index).
func (x *intIndex) all(yield func(key int64, p int32) bool) {
	if x == nil {
		return
	}
	for _, s := range x.slots {
		if s.pos != 0 && !yield(s.key, s.pos-1) {
			return
		}
	}
}
