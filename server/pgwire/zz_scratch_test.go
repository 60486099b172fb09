package pgwire

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

func TestScratch(t *testing.T) {
	m := pgtype.NewMap()
	for _, s := range []string{"2026-01-01 12:00:00Z", "2026-01-01T12:00:00Z", "2026-01-01 12:00:00.5+00", "2026-01-01 12:00:00+05:30", "infinity", "2026-01-01 12:00:00"} {
		var ts pgtype.Timestamptz
		err := m.Scan(pgtype.TimestamptzOID, 0, []byte(s), &ts)
		fmt.Println(s, "=>", ts, err)
	}
	for _, s := range []string{"1.5e10", "12.50", "NaN", "abc", "-0.001", "Infinity"} {
		var n pgtype.Numeric
		err := n.Scan(s)
		b, err2 := m.Encode(pgtype.NumericOID, 0, n, nil)
		fmt.Println(s, "=>", n, err, string(b), err2)
	}
	b, err := m.Encode(pgtype.NumericOID, 1, 1.5, nil)
	fmt.Println(b, err)
	b, err = m.Encode(pgtype.NumericOID, 1, pgtype.Numeric{Int: big.NewInt(1250), Exp: -2, Valid: true}, nil)
	fmt.Println(b, err)
	var iv pgtype.Interval
	fmt.Println(iv.Scan("1 year 2 mons -3 days 04:05:06.5"), iv)
	for _, s := range []string{"t", "true", "yes", "1", "on"} {
		var bo bool
		fmt.Println(s, m.Scan(pgtype.BoolOID, 0, []byte(s), &bo), bo)
	}
	var by []byte
	fmt.Println(m.Scan(pgtype.ByteaOID, 0, []byte(`\x0102`), &by), by)
	fmt.Println(m.Scan(pgtype.ByteaOID, 0, []byte(`ab\\c`), &by), by)
	v, ok := m.TypeForOID(pgtype.UUIDOID)
	fmt.Println(v.Codec.DecodeValue(m, 2950, 0, []byte("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")))
	_ = ok
}
