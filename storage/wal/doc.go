// Package wal is Weir's write-ahead log: an append-only sequence of records, each
// acknowledged only once it is on disk, that recovery replays after a crash.
//
// # Records and segments
//
// Every record has a log sequence number (LSN): 1 for the first record ever written,
// then consecutive. The log is a directory of segment files, each named by the LSN of its
// first record in 20 decimal digits (00000000000000000001.wal). A segment is a plain
// concatenation of records, with no file header:
//
//	offset  size  field
//	0       4     payload length n, uint32 little-endian
//	4       4     CRC-32C (Castagnoli) of bytes 0–3, 8–15 and the payload
//	8       8     LSN, uint64 little-endian
//	16      n     payload
//
// The checksum covers the length and the LSN as well as the payload, so a flipped bit
// anywhere, a record from another position or a zero-filled tail (what some file systems
// show after a crash that extended a file but lost its data) all fail to verify.
//
// # Commit and group commit
//
// Commit returns only after its record is written and fsynced. Concurrent callers share
// fsyncs: a caller queues its records and then either waits for them to be done or, when
// no one is writing, becomes the leader, takes everything queued (its own records and all
// that arrived while the previous leader was in fsync), writes it with one write and one
// fsync, and wakes the callers it served. Under load one fsync serves many commits; alone,
// a commit costs one write and one fsync. A group never spans segments: the active segment
// is closed once it has reached Options.SegmentBytes, before the next group is written,
// and the new segment's file and the directory are fsynced when it is created.
//
// # Failures
//
// A failed write (ENOSPC, EIO, …) is undone: the segment is truncated back to the end of
// the last acknowledged record and fsynced, the group's callers get the error, and later
// commits may succeed (disk space may come back). If the undo itself fails, or an fsync
// fails, the log refuses every later commit with that error until it is reopened: after a
// failed fsync the kernel may have dropped the dirty pages and cleared the error, so
// nothing written since can be trusted (PostgreSQL's rule since 2018). Reopening scans the
// log again and cuts whatever did not make it to disk. Errors carry a SQLSTATE: 53100
// disk_full for ENOSPC and EDQUOT, 58030 io_error for any other I/O failure.
//
// # Recovery
//
// Open reads and verifies every record of every segment. A record that is short, fails
// its checksum or has the wrong LSN ends the log: in the last segment it is a torn write of
// a commit that was never acknowledged, so the segment is cut at the end of the last good
// record and one line is logged (segment, offset, bytes dropped). In any earlier segment,
// which was complete and fsynced before its successor was created, it is damage to
// acknowledged data, and Open fails with ErrCorrupt rather than drop it. Replay then hands
// the records to the caller in LSN order; TruncateBefore drops whole segments once a
// checkpoint no longer needs them.
package wal
