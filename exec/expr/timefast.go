package expr

import "github.com/weirdb/weir/catalog"

// fastTimestamp reads the canonical ISO spellings of a date or timestamp without the
// general parser's cost (a regular expression and up to a dozen time.Parse layouts):
// "2026-01-02", then optionally ' ' or 'T', "15:04", ":05" and up to six fractional
// digits, then a zone Z, ±hh, ±hh:mm or ±hhmm — exactly the forms of tsLayouts that
// bulk input (COPY, ingest) uses. It returns µs since the epoch for timestamps and days
// for dates, with Parse's semantics (timestamp and date keep the wall clock and ignore
// the zone), and ok=false for anything else: other spellings, surrounding space, more
// fractional digits, and fields at or past their edges (hour 24, second 60, February
// 30), which Parse's general path then reads or rejects. So on every input it accepts,
// it agrees with the general path (timefast_test.go checks this).
func fastTimestamp(s string, t catalog.Type) (int64, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := atoiDigits(s[0:4])
	mo, ok2 := atoiDigits(s[5:7])
	d, ok3 := atoiDigits(s[8:10])
	if !ok1 || !ok2 || !ok3 || y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return 0, false
	}
	us := daysFromCivil(y, mo, d) * usPerDay
	rest := s[10:]
	if rest == "" {
		return applyZone(us, 0, t), true
	}
	sep := rest[0]
	if (sep != ' ' && sep != 'T') || len(rest) < 6 || rest[3] != ':' {
		return 0, false
	}
	h, ok1 := atoiDigits(rest[1:3])
	mi, ok2 := atoiDigits(rest[4:6])
	if !ok1 || !ok2 || h > 23 || mi > 59 {
		return 0, false
	}
	us += int64(h)*3_600_000_000 + int64(mi)*60_000_000
	rest = rest[6:]
	seconds := len(rest) >= 3 && rest[0] == ':'
	if seconds {
		sec, ok := atoiDigits(rest[1:3])
		if !ok || sec > 59 {
			return 0, false
		}
		us += int64(sec) * 1_000_000
		rest = rest[3:]
		if len(rest) > 0 && rest[0] == '.' {
			n := 1
			frac := int64(0)
			for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
				frac = frac*10 + int64(rest[n]-'0')
				n++
			}
			digits := n - 1
			if digits == 0 || digits > 6 {
				return 0, false
			}
			for range 6 - digits {
				frac *= 10
			}
			us += frac
			rest = rest[n:]
		}
	} else if sep == 'T' {
		return 0, false // no layout reads 'T' without seconds
	}
	offset, ok := zoneOffset(rest, sep == ' ')
	if !ok {
		return 0, false
	}
	return applyZone(us, offset, t), true
}

// applyZone applies the zone to a wall-clock time as Parse does: only timestamptz honours
// it; a date is the wall clock's day.
func applyZone(wall, offset int64, t catalog.Type) int64 {
	switch t {
	case catalog.Timestamptz:
		return wall - offset
	case catalog.Date:
		return floorDiv(wall, usPerDay)
	}
	return wall
}

// zoneOffset reads "", "Z", "±hh", "±hh:mm" or (with a space separator only, as in
// tsLayouts) "±hhmm", in µs east of UTC.
func zoneOffset(z string, hhmm bool) (int64, bool) {
	switch {
	case z == "":
		return 0, true
	case z == "Z":
		return 0, true
	case len(z) < 3 || (z[0] != '+' && z[0] != '-'):
		return 0, false
	}
	h, ok := atoiDigits(z[1:3])
	m := 0
	switch {
	case !ok || h > 15:
		return 0, false
	case len(z) == 3:
	case len(z) == 6 && z[3] == ':', len(z) == 5 && hhmm:
		if m, ok = atoiDigits(z[len(z)-2:]); !ok || m > 59 {
			return 0, false
		}
	default:
		return 0, false
	}
	off := int64(h)*3_600_000_000 + int64(m)*60_000_000
	if z[0] == '-' {
		off = -off
	}
	return off, true
}

// atoiDigits reads a run of ASCII digits.
func atoiDigits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the proleptic
// Gregorian calendar (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= 0 here
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
