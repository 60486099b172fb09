package exec

import (
	"errors"
	"fmt"
)

// Checkpoints (issue #5): between ticks, the state of every operator can be saved as
// bytes and loaded into a freshly built operator of the same configuration (the same
// plan lowered again), so that recovery starts from the saved state instead of
// recomputing every view from the sources' full history.

// A Checkpointer is an operator with state that can be saved and restored.
type Checkpointer interface {
	// AppendState appends the operator's state, as of the end of the last Advance, to
	// dst. The encoding starts with a version byte owned by the operator; it is not a
	// stable format across versions of Weir that change that byte.
	AppendState(dst []byte) []byte
	// LoadState replaces the state of a freshly built operator (no Push or Advance yet)
	// with one AppendState saved from an operator built with the same configuration.
	// Malformed input returns an error and leaves the operator unusable.
	LoadState(p []byte) error
}

// A Snapshotter is a Checkpointer that can also hand out its state as of now, to be
// encoded later, while it goes on: Snapshot does the little that must happen between
// ticks (for a large state, copying a list of pointers to rows it will not modify
// again), and the encoder it returns appends what AppendState would have appended then,
// without touching the operator. A checkpoint thus holds ticks up only for the copy,
// not for the encoding of millions of rows. The encoder may run on another goroutine,
// at most once, while the operator is used.
type Snapshotter interface {
	Checkpointer
	Snapshot() (encode func(dst []byte) []byte)
}

// stateless is implemented by operators that keep no state between ticks.
type stateless interface{ stateless() }

// ErrNoCheckpoint is returned for an operator whose state cannot be saved.
var ErrNoCheckpoint = errors.New("operator state cannot be checkpointed")

// AppendState appends op's state to dst: nothing for a stateless operator.
func AppendState(op Operator, dst []byte) ([]byte, error) {
	switch o := op.(type) {
	case stateless:
		return dst, nil
	case Checkpointer:
		return o.AppendState(dst), nil
	}
	return dst, fmt.Errorf("%s: %w", op, ErrNoCheckpoint)
}

// LoadState loads state saved by AppendState into op, freshly built.
func LoadState(op Operator, p []byte) error {
	switch o := op.(type) {
	case stateless:
		if len(p) != 0 {
			return fmt.Errorf("%s: %d bytes of state for a stateless operator", op, len(p))
		}
		return nil
	case Checkpointer:
		if err := o.LoadState(p); err != nil {
			return fmt.Errorf("%s: loading checkpointed state: %w", op, err)
		}
		return nil
	}
	return fmt.Errorf("%s: %w", op, ErrNoCheckpoint)
}
