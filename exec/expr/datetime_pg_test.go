package expr

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	_ "github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/pgtest"
	"github.com/weirdb/weir/internal/sqlerr"
)

// TestDateTimeAgainstPostgres compares to_char, date_bin, extract/date_part and the
// interval operators with PostgreSQL 15 on the same inputs: every template keyword, with
// and without FM and TH, over dates chosen for their edge cases (ISO weeks, leap days,
// midnight and noon, BC years, fractions) and seeded random ones.
func TestDateTimeAgainstPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("-short skips tests that start PostgreSQL")
	}
	pg := pgtest.Start(t)
	db, err := sql.Open("postgres", pg.DSN())
	require.NoError(t, err)
	defer db.Close()
	// pgtest clusters run with TimeZone UTC, as Weir sessions do.
	failures := 0
	check := func(t *testing.T, want, got any, format string, args ...any) {
		t.Helper()
		if want != got {
			failures++
			if failures <= 30 {
				t.Errorf("%s: PostgreSQL %q, Weir %q", fmt.Sprintf(format, args...), want, got)
			}
		}
	}

	stamps := []string{
		"2024-01-01 00:00:00", "2024-02-29 12:00:00", "2024-12-31 23:59:59.999999", "2021-01-03 13:05:09.5",
		"2020-12-31 00:30:00.000123", "2019-12-30 11:59:59", "2027-01-01 12:00:01", "1999-07-04 07:08:09.01",
		"2000-01-01 00:00:00", "1970-01-01 00:00:00", "1969-12-31 23:59:59.9", "0099-03-05 10:00:00",
		"1900-02-28 18:45:00", "2026-03-15 13:45:30", "0001-01-01 00:00:00", "2023-01-01 12:00:00",
	}
	rng := rand.New(rand.NewPCG(3, 7))
	for range 12 {
		us := rng.Int64N(6_000_000_000_000_000) - 2_000_000_000_000_000
		stamps = append(stamps, FormatTimestamp(us, false))
	}
	var formats []string
	for _, kw := range dchKeywords {
		formats = append(formats, kw.name, "FM"+kw.name, "TM"+kw.name, kw.name+"TH", "FM"+kw.name+"th")
	}
	formats = append(formats,
		`YYYY-MM-DD HH24:MI:SS.US`, `Day, DD Month YYYY`, `FMDay, FMDD FMMonth YYYY`, `HH12:MI AM`, `"Q"Q "week" IW/WW`,
		`"quoted \" text" YYYY`, `\"YYYY\"`, `back\slash MM`, `YYYYMMDD`, `FMDDth "of" FMMonth`, `IYYY-IW-ID`,
		`dd.mm.yyyy hh24:mi`, `Dy Mon DD`, `MONTHMONTH`, `FXYYYY`, `FMYY-FMMM`, `DAy`, `A.M.P.M.`, `tzTZ`, `"unterminated`,
	)

	defer func() {
		if failures > 30 {
			t.Errorf("%d mismatches in all", failures)
		}
	}()
	t.Run("to_char", func(t *testing.T) {
		for _, typ := range []string{"timestamp", "timestamptz", "date"} {
			for _, f := range formats {
				var lits []string
				for _, s := range stamps {
					lits = append(lits, fmt.Sprintf("('%s'::%s)", s, typ))
				}
				q := fmt.Sprintf(`SELECT v::text, to_char(v, $1) FROM (VALUES %s) x(v)`, strings.Join(lits, ", "))
				rows, err := db.Query(q, f)
				require.NoError(t, err, f)
				defer rows.Close()
				for rows.Next() {
					var in string
					var want sql.NullString
					require.NoError(t, rows.Scan(&in, &want))
					ct := map[string]catalog.Type{"timestamp": catalog.Timestamp, "timestamptz": catalog.Timestamptz, "date": catalog.Date}[typ]
					v, err := Parse(in, ct)
					require.NoError(t, err, in)
					got := call(t, "to_char", NewConst(v, ct), NewConst(delta.Str(f), catalog.Text))
					gv, err := got.Eval(nil)
					if err != nil {
						require.Equal(t, sqlerr.FeatureNotSupported, sqlerr.CodeOf(err), "%s %q: %v", in, f, err)
						continue // Weir refuses what it does not print
					}
					check(t, want.String, gv.S, "%s to_char(%s, %q)", typ, in, f)
					check(t, want.Valid, !gv.Null, "%s to_char(%s, %q) is not NULL", typ, in, f)
				}
				require.NoError(t, rows.Err())
				rows.Close()
			}
		}
	})

	intervals := []string{"1 year 2 mons 3 days 04:05:06.789", "-1 year -2 mons +3 days -04:05:06", "00:00:00", "25:00:00",
		"-00:00:01.5", "13 mons 400 days", "1 day -02:00:00", "2 years", "-35 days 12:00:00"}
	t.Run("to_char interval", func(t *testing.T) {
		for _, f := range append(formats, `HH24:MI:SS`, `DD "days" HH24 "h"`, `YYYY-MM-DD`, `SSSS`, `FMHH12 am`) {
			if _, err := parseDCH(f, true); err != nil {
				continue // refused for intervals: see TestToCharRefusals
			}
			for _, s := range intervals {
				var want sql.NullString
				require.NoError(t, db.QueryRow(`SELECT to_char($1::interval, $2)`, s, f).Scan(&want), f)
				v, err := Parse(s, catalog.Interval)
				require.NoError(t, err)
				gv, err := call(t, "to_char", NewConst(v, catalog.Interval), NewConst(delta.Str(f), catalog.Text)).Eval(nil)
				require.NoError(t, err)
				check(t, want.String, gv.S, "to_char(interval %q, %q)", s, f)
			}
		}
	})

	t.Run("date_bin", func(t *testing.T) {
		strides := []string{"15 minutes", "1 day", "7 days", "1 hour 30 minutes", "1 microsecond", "00:00:00.5", "3 days 1 second"}
		origins := []string{"2001-01-01", "2001-01-01 00:02:30", "2030-06-15 12:00:00", "1969-12-31 23:00:00"}
		for _, st := range strides {
			for _, o := range origins {
				for _, s := range stamps[:14] {
					var want string
					require.NoError(t, db.QueryRow(`SELECT date_bin($1::interval, $2::timestamp, $3::timestamp)::text`, st, s, o).Scan(&want))
					iv, _ := Parse(st, catalog.Interval)
					src, _ := Parse(s, catalog.Timestamp)
					org, _ := Parse(o, catalog.Timestamp)
					got, err := dateBin(IntervalOf(iv), src.I, org.I)
					require.NoError(t, err)
					check(t, want, FormatTimestamp(got, false), "date_bin(%s, %s, %s)", st, s, o)
				}
			}
		}
	})

	t.Run("extract", func(t *testing.T) {
		fields := []string{"microseconds", "milliseconds", "second", "minute", "hour", "day", "month", "quarter", "year",
			"decade", "century", "millennium", "epoch", "dow", "isodow", "doy", "week", "isoyear"}
		for _, field := range fields {
			for _, s := range stamps[:11] {
				var want string
				require.NoError(t, db.QueryRow(`SELECT extract(`+field+` from $1::timestamp)::text`, s).Scan(&want))
				ts, _ := Parse(s, catalog.Timestamp)
				got, err := extractTimestamp(field, ts.I)
				require.NoError(t, err, field)
				check(t, want, got.S, "extract(%s from timestamp %s)", field, s)
			}
			for _, s := range intervals {
				var want, wantF string
				err := db.QueryRow(`SELECT extract(`+field+` from $1::interval)::text, date_part('`+field+`', $1::interval)::text`, s).Scan(&want, &wantF)
				v, _ := Parse(s, catalog.Interval)
				got, gerr := extractInterval(field, IntervalOf(v), true)
				gotF, _ := extractInterval(field, IntervalOf(v), false)
				if err != nil {
					require.Error(t, gerr, "extract(%s from interval %s): PostgreSQL fails with %v", field, s, err)
					continue
				}
				require.NoError(t, gerr, field)
				check(t, want, got.S, "extract(%s from interval %s)", field, s)
				check(t, wantF, FormatFloat(gotF.F, 64), "date_part(%s, interval %s)", field, s)
			}
		}
	})

	t.Run("interval text", func(t *testing.T) {
		for i := range 300 {
			iv := fmt.Sprintf("%d mons %d days %d microseconds", rng.IntN(400)-200, rng.IntN(2000)-1000, rng.Int64N(1e13)-5e12)
			if i%3 == 0 {
				iv = fmt.Sprintf("%d days %d microseconds", rng.IntN(10)-5, rng.Int64N(1e11)-5e10)
			}
			var want string
			require.NoError(t, db.QueryRow(`SELECT $1::interval::text`, iv).Scan(&want))
			v, err := Parse(iv, catalog.Interval)
			require.NoError(t, err)
			check(t, want, Format(v, catalog.Interval), "%s", iv)
			for _, f := range []string{"1.5", "-0.3", "7", "0.0001"} {
				var mul, div string
				require.NoError(t, db.QueryRow(`SELECT ($1::interval * $2::float8)::text, ($1::interval / $2::float8)::text`, iv, f).Scan(&mul, &div))
				fv, _ := Parse(f, catalog.Float8)
				m, err := TimeArith(IntervalMul, v, fv)
				require.NoError(t, err)
				d, err := TimeArith(IntervalDiv, v, fv)
				require.NoError(t, err)
				check(t, mul, Format(m, catalog.Interval), "%s * %s", iv, f)
				check(t, div, Format(d, catalog.Interval), "%s / %s", iv, f)
			}
		}
	})
}
