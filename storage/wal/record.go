package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// headerBytes is the size of a record header: length, checksum, LSN.
const headerBytes = 16

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendRecord appends the record (lsn, payload) to buf.
func appendRecord(buf []byte, lsn LSN, payload []byte) []byte {
	var h [headerBytes]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint64(h[8:16], uint64(lsn))
	binary.LittleEndian.PutUint32(h[4:8], checksum(h[:], payload))
	buf = append(buf, h[:]...)
	return append(buf, payload...)
}

// checksum is the CRC-32C of a header's length and LSN fields and the payload.
func checksum(h []byte, payload []byte) uint32 {
	c := crc32.Update(0, castagnoli, h[0:4])
	c = crc32.Update(c, castagnoli, h[8:16])
	return crc32.Update(c, castagnoli, payload)
}

// errBadRecord says why a record failed to verify; the reader's offset says where.
type errBadRecord struct{ reason string }

func (e *errBadRecord) Error() string { return e.reason }

// segmentReader reads and verifies the records of one segment file in order.
type segmentReader struct {
	r    *bufio.Reader
	size int64 // file size
	off  int64 // offset of the next record
	next LSN   // the LSN the next record must have
	buf  []byte
}

func newSegmentReader(f *os.File, first LSN) (*segmentReader, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return &segmentReader{r: bufio.NewReaderSize(f, 1<<20), size: st.Size(), next: first}, nil
}

// read returns the next record. Its payload is valid until the next call. At the clean
// end of the file it returns io.EOF; a record that is cut short, fails its checksum or
// carries the wrong LSN is an *errBadRecord, and rd.off stays at its start.
func (rd *segmentReader) read() (LSN, []byte, error) {
	if rd.off == rd.size {
		return 0, nil, io.EOF
	}
	if rd.size-rd.off < headerBytes {
		return 0, nil, &errBadRecord{fmt.Sprintf("record header cut short (%d of %d bytes)", rd.size-rd.off, headerBytes)}
	}
	var h [headerBytes]byte
	if _, err := io.ReadFull(rd.r, h[:]); err != nil {
		return 0, nil, err
	}
	n := int64(binary.LittleEndian.Uint32(h[0:4]))
	if n > rd.size-rd.off-headerBytes {
		return 0, nil, &errBadRecord{fmt.Sprintf("record of %d bytes cut short (%d left in the file)", n, rd.size-rd.off-headerBytes)}
	}
	if int64(cap(rd.buf)) < n {
		rd.buf = make([]byte, n)
	}
	payload := rd.buf[:n]
	if _, err := io.ReadFull(rd.r, payload); err != nil {
		return 0, nil, err
	}
	if got, want := checksum(h[:], payload), binary.LittleEndian.Uint32(h[4:8]); got != want {
		return 0, nil, &errBadRecord{fmt.Sprintf("checksum mismatch (stored %08x, computed %08x)", want, got)}
	}
	if lsn := LSN(binary.LittleEndian.Uint64(h[8:16])); lsn != rd.next {
		return 0, nil, &errBadRecord{fmt.Sprintf("record has LSN %d, expected %d", lsn, rd.next)}
	}
	rd.off += headerBytes + n
	rd.next++
	return rd.next - 1, payload, nil
}

// segmentSuffix ends every segment file name.
const segmentSuffix = ".wal"

// segmentName is the file name of the segment whose first record is first.
func segmentName(first LSN) string { return fmt.Sprintf("%020d%s", uint64(first), segmentSuffix) }

// parseSegmentName returns the first LSN a segment file name carries, and whether name is
// a segment file name at all.
func parseSegmentName(name string) (LSN, bool) {
	digits, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return LSN(n), true
}

// segment is one segment file.
type segment struct {
	first LSN // the LSN of its first record (its name)
	path  string
}

func newSegment(dir string, first LSN) segment {
	return segment{first: first, path: filepath.Join(dir, segmentName(first))}
}

// scanResult is what verifying a segment found.
type scanResult struct {
	records uint64
	good    int64 // bytes of verified records from the start
	size    int64 // file size
	bad     error // why the record at good failed, nil when the whole file verified
}

// scanSegment verifies every record of s.
func scanSegment(s segment) (scanResult, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return scanResult{}, err
	}
	defer f.Close()
	rd, err := newSegmentReader(f, s.first)
	if err != nil {
		return scanResult{}, err
	}
	res := scanResult{size: rd.size}
	for {
		_, _, err := rd.read()
		var bad *errBadRecord
		switch {
		case err == nil:
			res.records++
			continue
		case errors.Is(err, io.EOF):
		case errors.As(err, &bad):
			res.bad = bad
		default:
			return scanResult{}, err
		}
		res.good = rd.off
		return res, nil
	}
}
