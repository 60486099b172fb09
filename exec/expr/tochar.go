package expr

import (
	"strconv"
	"strings"

	"github.com/weirdb/weir/internal/interval"
	"github.com/weirdb/weir/internal/sqlerr"
)

// to_char(timestamp | timestamptz | date | interval, text) with PostgreSQL 15's template
// patterns (formatting.c): the format is parsed once into nodes, keywords matched
// longest-first in PostgreSQL's table order, FM/TM prefixes and TH/th suffixes applied.
// Sessions are UTC with the C locale, so TM changes nothing but the padding and TZ
// prints "UTC" for timestamptz (nothing for timestamp). A keyword Weir does not print is
// rejected when the format is parsed, never printed wrong.

type dchKey uint8

const (
	kAD     dchKey = iota // A.D. / AD / B.C. / BC and lower-case forms (see the entry's variant)
	kAM                   // A.M. / AM / P.M. / PM …
	kCC                   // century
	kDAY                  // DAY / Day / day
	kDDD                  // day of year
	kDD                   // day of month
	kDY                   // DY / Dy / dy
	kD                    // day of week, Sunday = 1
	kFF                   // FF1 … FF6
	kFX                   // fixed format: no effect on output
	kHH24                 // hour 00-23
	kHH12                 // HH and HH12: hour 01-12
	kIDDD                 // ISO day of year
	kID                   // ISO day of week, Monday = 1
	kIW                   // ISO week
	kIYYY                 // ISO year, 4 digits (IYY, IY, I: modulo 1000, 100, 10)
	kJ                    // Julian day
	kMI                   // minute
	kMM                   // month number
	kMONTH                // MONTH / Month / month
	kMON                  // MON / Mon / mon
	kMS                   // millisecond
	kOF                   // time-zone offset
	kQ                    // quarter
	kRM                   // roman month
	kSSSS                 // seconds past midnight (SSSS, SSSSS)
	kSS                   // second
	kTZH                  // time-zone hours
	kTZM                  // time-zone minutes
	kTZ                   // time-zone abbreviation
	kUS                   // microsecond
	kWW                   // week of year
	kW                    // week of month
	kYComma               // Y,YYY
	kYYYY                 // year (YYY, YY, Y: modulo 1000, 100, 10)
)

// Text case of a keyword's output: UPPER, Capitalized or lower.
const (
	caseUpper = iota
	caseCap
	caseLower
)

type dchKeyword struct {
	name    string
	key     dchKey
	variant int // case (caseUpper …), digits (FF1-6, Y…YYYY) or dotted forms (1)
}

// dchKeywords is PostgreSQL's DCH_keywords in its order: at each position the first
// entry that is a prefix of the format wins, so longer names come first.
var dchKeywords = []dchKeyword{
	{"A.D.", kAD, caseUpper + 10}, {"A.M.", kAM, caseUpper + 10}, {"AD", kAD, caseUpper}, {"AM", kAM, caseUpper},
	{"B.C.", kAD, caseUpper + 10}, {"BC", kAD, caseUpper},
	{"CC", kCC, 0},
	{"DAY", kDAY, caseUpper}, {"DDD", kDDD, 0}, {"DD", kDD, 0}, {"DY", kDY, caseUpper}, {"Day", kDAY, caseCap},
	{"Dy", kDY, caseCap}, {"D", kD, 0},
	{"FF1", kFF, 1}, {"FF2", kFF, 2}, {"FF3", kFF, 3}, {"FF4", kFF, 4}, {"FF5", kFF, 5}, {"FF6", kFF, 6},
	{"FX", kFX, 0},
	{"HH24", kHH24, 0}, {"HH12", kHH12, 0}, {"HH", kHH12, 0},
	{"IDDD", kIDDD, 0}, {"ID", kID, 0}, {"IW", kIW, 0}, {"IYYY", kIYYY, 4}, {"IYY", kIYYY, 3}, {"IY", kIYYY, 2},
	{"I", kIYYY, 1},
	{"J", kJ, 0},
	{"MI", kMI, 0}, {"MM", kMM, 0}, {"MONTH", kMONTH, caseUpper}, {"MON", kMON, caseUpper}, {"MS", kMS, 0},
	{"Month", kMONTH, caseCap}, {"Mon", kMON, caseCap},
	{"OF", kOF, 0},
	{"P.M.", kAM, caseUpper + 10}, {"PM", kAM, caseUpper},
	{"Q", kQ, 0},
	{"RM", kRM, caseUpper},
	{"SSSSS", kSSSS, 0}, {"SSSS", kSSSS, 0}, {"SS", kSS, 0},
	{"TZH", kTZH, 0}, {"TZM", kTZM, 0}, {"TZ", kTZ, caseUpper},
	{"US", kUS, 0},
	{"WW", kWW, 0}, {"W", kW, 0},
	{"Y,YYY", kYComma, 0}, {"YYYY", kYYYY, 4}, {"YYY", kYYYY, 3}, {"YY", kYYYY, 2}, {"Y", kYYYY, 1},
	{"a.d.", kAD, caseLower + 10}, {"a.m.", kAM, caseLower + 10}, {"ad", kAD, caseLower}, {"am", kAM, caseLower},
	{"b.c.", kAD, caseLower + 10}, {"bc", kAD, caseLower},
	{"cc", kCC, 0},
	{"day", kDAY, caseLower}, {"ddd", kDDD, 0}, {"dd", kDD, 0}, {"dy", kDY, caseLower}, {"d", kD, 0},
	{"ff1", kFF, 1}, {"ff2", kFF, 2}, {"ff3", kFF, 3}, {"ff4", kFF, 4}, {"ff5", kFF, 5}, {"ff6", kFF, 6},
	{"fx", kFX, 0},
	{"hh24", kHH24, 0}, {"hh12", kHH12, 0}, {"hh", kHH12, 0},
	{"iddd", kIDDD, 0}, {"id", kID, 0}, {"iw", kIW, 0}, {"iyyy", kIYYY, 4}, {"iyy", kIYYY, 3}, {"iy", kIYYY, 2},
	{"i", kIYYY, 1},
	{"j", kJ, 0},
	{"mi", kMI, 0}, {"mm", kMM, 0}, {"month", kMONTH, caseLower}, {"mon", kMON, caseLower}, {"ms", kMS, 0},
	{"of", kOF, 0},
	{"p.m.", kAM, caseLower + 10}, {"pm", kAM, caseLower},
	{"q", kQ, 0},
	{"rm", kRM, caseLower},
	{"sssss", kSSSS, 0}, {"ssss", kSSSS, 0}, {"ss", kSS, 0},
	{"tzh", kTZH, 0}, {"tzm", kTZM, 0}, {"tz", kTZ, caseLower},
	{"us", kUS, 0},
	{"ww", kWW, 0}, {"w", kW, 0},
	{"y,yyy", kYComma, 0}, {"yyyy", kYYYY, 4}, {"yyy", kYYYY, 3}, {"yy", kYYYY, 2}, {"y", kYYYY, 1},
}

// dchNode is one element of a parsed format: a keyword with its modifiers, or literal
// text.
type dchNode struct {
	kw      *dchKeyword
	fm, tm  bool
	th      int // 0, or 1 for TH (upper case), 2 for th
	literal string
}

// dchFormat is a parsed to_char template.
type dchFormat []dchNode

// parseDCH parses a to_char template as parse_format does. forInterval rejects the
// keywords PostgreSQL refuses for intervals (or that Weir does not print for them).
func parseDCH(f string, forInterval bool) (dchFormat, error) {
	var out dchFormat
	for i := 0; i < len(f); {
		var fm, tm bool
		switch {
		case strings.HasPrefix(f[i:], "FM") || strings.HasPrefix(f[i:], "fm"):
			fm = true
			i += 2
		case strings.HasPrefix(f[i:], "TM") || strings.HasPrefix(f[i:], "tm"):
			tm = true
			i += 2
		}
		if i < len(f) {
			if kw := matchKeyword(f[i:]); kw != nil {
				i += len(kw.name)
				n := dchNode{kw: kw, fm: fm, tm: tm}
				switch {
				case strings.HasPrefix(f[i:], "TH"):
					n.th = 1
					i += 2
				case strings.HasPrefix(f[i:], "th"):
					n.th = 2
					i += 2
				case strings.HasPrefix(f[i:], "SP"):
					return nil, sqlerr.New(sqlerr.FeatureNotSupported, "to_char template suffix SP (spell mode) is not supported")
				}
				if err := checkKeyword(kw, forInterval); err != nil {
					return nil, err
				}
				out = append(out, n)
				continue
			}
		}
		if i >= len(f) {
			break
		}
		if f[i] == '"' {
			i++
			var sb strings.Builder
			for i < len(f) {
				if f[i] == '"' {
					i++
					break
				}
				if f[i] == '\\' && i+1 < len(f) {
					i++
				}
				sb.WriteByte(f[i])
				i++
			}
			out = append(out, dchNode{literal: sb.String()})
			continue
		}
		if f[i] == '\\' && i+1 < len(f) && f[i+1] == '"' {
			i++
		}
		out = append(out, dchNode{literal: f[i : i+1]})
		i++
	}
	return out, nil
}

func matchKeyword(s string) *dchKeyword {
	for k := range dchKeywords {
		if strings.HasPrefix(s, dchKeywords[k].name) {
			return &dchKeywords[k]
		}
	}
	return nil
}

// checkKeyword rejects what Weir does not print for this input type: for intervals the
// calendar patterns PostgreSQL refuses (22007) and the ISO and Julian ones whose
// interval output Weir does not reproduce (0A000).
func checkKeyword(kw *dchKeyword, forInterval bool) error {
	if !forInterval {
		return nil
	}
	switch kw.key {
	case kAD, kDAY, kDY, kD, kID, kMONTH, kMON, kTZ, kTZH, kTZM, kOF:
		return sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid format specification for an interval value").
			WithHint("Intervals are not tied to specific calendar dates.")
	case kRM, kIDDD, kIW, kIYYY, kJ:
		return sqlerr.New(sqlerr.FeatureNotSupported, "to_char(interval) template pattern %q is not supported", kw.name)
	}
	return nil
}

// dchFields are the broken-down fields to_char prints.
type dchFields struct {
	year, mon, mday, hour, min, sec int64
	usec                            int64 // microseconds of the second
	yday, wday                      int64 // day of year (1-366), day of week (Sunday = 0)
	days                            int64 // days since the Unix epoch (timestamps)
	interval                        bool
	zone                            string // "UTC" for timestamptz, "" otherwise
}

func timestampFields(us int64, tz bool) dchFields {
	days, tod := floorDiv(us, usPerDay), floorMod(us, usPerDay)
	y, m, d := interval.CivilFromDays(days)
	f := dchFields{
		year: y, mon: int64(m), mday: int64(d),
		hour: tod / interval.MicrosPerHour, min: tod / interval.MicrosPerMinute % 60, sec: tod / interval.MicrosPerSecond % 60,
		usec: tod % interval.MicrosPerSecond,
		yday: days - interval.DaysFromCivil(y, 1, 1) + 1,
		wday: floorMod(days+4, 7), // 1970-01-01 was a Thursday
		days: days,
	}
	if tz {
		f.zone = "UTC"
	}
	return f
}

func intervalFields(iv interval.Interval) dchFields {
	t := iv.Micros
	f := dchFields{interval: true, year: int64(iv.Months / 12), mon: int64(iv.Months % 12), mday: int64(iv.Days)}
	f.hour = t / interval.MicrosPerHour
	t -= f.hour * interval.MicrosPerHour
	f.min = t / interval.MicrosPerMinute
	t -= f.min * interval.MicrosPerMinute
	f.sec = t / interval.MicrosPerSecond
	f.usec = t - f.sec*interval.MicrosPerSecond
	f.yday = (f.year*12+f.mon)*30 + f.mday
	return f
}

var (
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September",
		"October", "November", "December"}
	dayNames     = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	romanMonths  = []string{"XII", "XI", "X", "IX", "VIII", "VII", "VI", "V", "IV", "III", "II", "I"}
	ordinalUpper = []string{"ST", "ND", "RD", "TH"}
	ordinalLower = []string{"st", "nd", "rd", "th"}
)

func applyCase(s string, c int) string {
	switch c % 10 {
	case caseUpper:
		return strings.ToUpper(s)
	case caseLower:
		return strings.ToLower(s)
	}
	return s
}

// zeroPad is C's "%0*d": width counts the sign.
func zeroPad(v int64, width int) string {
	s := strconv.FormatInt(abs(v), 10)
	neg := v < 0
	pad := width - len(s)
	if neg {
		pad--
	}
	if pad > 0 {
		s = strings.Repeat("0", pad) + s
	}
	if neg {
		s = "-" + s
	}
	return s
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// padRight is C's "%-*s".
func padRight(s string, width int) string {
	if len(s) < width {
		return s + strings.Repeat(" ", width-len(s))
	}
	return s
}

// adjustYear is ADJUST_YEAR: BC years print as positive for timestamps.
func (f *dchFields) adjustYear(y int64) int64 {
	if f.interval || y > 0 {
		return y
	}
	return -(y - 1)
}

// isoYearWeek returns the ISO 8601 year and week of the fields' date.
func (f *dchFields) isoYearWeek() (int64, int64) {
	// Thursday of this ISO week decides the year.
	isoDow := (f.wday+6)%7 + 1 // Monday = 1
	thursday := f.days - isoDow + 4
	y, _, _ := interval.CivilFromDays(thursday)
	week := (thursday-interval.DaysFromCivil(y, 1, 1))/7 + 1
	return y, week
}

// isoYearDay is date2isoyearday: days since the Monday of ISO week 1.
func (f *dchFields) isoYearDay() int64 {
	y, _ := f.isoYearWeek()
	jan4 := interval.DaysFromCivil(y, 1, 4)
	jan4Dow := floorMod(jan4+3, 7) // Monday = 0
	return f.days - (jan4 - jan4Dow) + 1
}

func ordinal(s string, th int) string {
	if th == 0 || s == "" {
		return s
	}
	last := s[len(s)-1]
	if len(s) > 1 && s[len(s)-2] == '1' {
		last = '0'
	}
	i := 3
	switch last {
	case '1':
		i = 0
	case '2':
		i = 1
	case '3':
		i = 2
	}
	if th == 1 {
		return s + ordinalUpper[i]
	}
	return s + ordinalLower[i]
}

// format prints the fields with the parsed template (DCH_to_char).
func (d dchFormat) format(f dchFields) string {
	var sb strings.Builder
	for _, n := range d {
		if n.kw == nil {
			sb.WriteString(n.literal)
			continue
		}
		kw := n.kw
		num := func(v int64, width int) {
			w := width
			if n.fm {
				w = 0
			} else if v < 0 {
				w++
			}
			sb.WriteString(ordinal(zeroPad(v, w), n.th))
		}
		plain := func(v int64) { sb.WriteString(ordinal(strconv.FormatInt(v, 10), n.th)) }
		// fixed is "%0*d" for the fields whose width does not grow for a sign (DDD, WW).
		fixed := func(v int64, width int) {
			if n.fm {
				width = 0
			}
			sb.WriteString(ordinal(zeroPad(v, width), n.th))
		}
		word := func(s string, width int) {
			s = applyCase(s, kw.variant)
			if !n.fm && !n.tm {
				s = padRight(s, width)
			}
			sb.WriteString(s)
		}
		switch kw.key {
		case kAD:
			bc := f.year <= 0
			s := map[bool]string{false: "AD", true: "BC"}[bc]
			if kw.variant >= 10 {
				s = map[bool]string{false: "A.D.", true: "B.C."}[bc]
			}
			sb.WriteString(applyCase(s, kw.variant))
		case kAM:
			pm := f.hour%24 >= 12 // C's %, as PostgreSQL: a negative interval hour is AM
			s := map[bool]string{false: "AM", true: "PM"}[pm]
			if kw.variant >= 10 {
				s = map[bool]string{false: "A.M.", true: "P.M."}[pm]
			}
			sb.WriteString(applyCase(s, kw.variant))
		case kHH12:
			h := f.hour % 12
			if h == 0 {
				h = 12
			}
			num(h, 2)
		case kHH24:
			num(f.hour, 2)
		case kMI:
			num(f.min, 2)
		case kSS:
			num(f.sec, 2)
		case kFF:
			div := int64(1)
			for i := kw.variant; i < 6; i++ {
				div *= 10
			}
			sb.WriteString(ordinal(zeroPad(f.usec/div, kw.variant), n.th))
		case kMS:
			sb.WriteString(ordinal(zeroPad(f.usec/1000, 3), n.th))
		case kUS:
			sb.WriteString(ordinal(zeroPad(f.usec, 6), n.th))
		case kSSSS:
			plain(f.hour*3600 + f.min*60 + f.sec)
		case kTZ:
			sb.WriteString(applyCase(f.zone, kw.variant))
		case kTZH:
			sb.WriteString("+00")
		case kTZM:
			sb.WriteString("00")
		case kOF:
			if n.fm {
				sb.WriteString("+0")
			} else {
				sb.WriteString("+00")
			}
		case kMONTH:
			if f.mon == 0 {
				break
			}
			word(monthNames[f.mon-1], 9)
		case kMON:
			if f.mon == 0 {
				break
			}
			sb.WriteString(applyCase(monthNames[f.mon-1][:3], kw.variant))
		case kMM:
			num(f.mon, 2)
		case kDAY:
			word(dayNames[f.wday], 9)
		case kDY:
			sb.WriteString(applyCase(dayNames[f.wday][:3], kw.variant))
		case kDDD:
			fixed(f.yday, 3)
		case kIDDD:
			num(f.isoYearDay(), 3)
		case kDD:
			num(f.mday, 2)
		case kD:
			plain(f.wday + 1)
		case kID:
			id := f.wday
			if id == 0 {
				id = 7
			}
			plain(id)
		case kWW:
			fixed((f.yday-1)/7+1, 2)
		case kIW:
			_, w := f.isoYearWeek()
			num(w, 2)
		case kQ:
			if f.mon == 0 {
				break
			}
			plain((f.mon-1)/3 + 1)
		case kCC:
			var c int64
			switch {
			case f.interval:
				c = f.year / 100
			case f.year > 0:
				c = (f.year-1)/100 + 1
			default:
				c = f.year/100 - 1
			}
			if c <= 99 && c >= -99 {
				num(c, 2)
			} else {
				plain(c)
			}
		case kYComma:
			y := f.adjustYear(f.year)
			sb.WriteString(ordinal(strconv.FormatInt(y/1000, 10)+","+zeroPad(y-y/1000*1000, 3), n.th))
		case kYYYY, kIYYY:
			y := f.year
			if kw.key == kIYYY {
				y, _ = f.isoYearWeek()
			}
			y = f.adjustYear(y)
			switch kw.variant {
			case 4:
				num(y, 4)
			default: // YYY, YY, Y: the year modulo 1000, 100, 10
				mod := map[int]int64{3: 1000, 2: 100, 1: 10}[kw.variant]
				num(y%mod, kw.variant)
			}
		case kRM:
			if f.mon == 0 {
				break
			}
			s := applyCase(romanMonths[12-f.mon], kw.variant)
			if !n.fm {
				s = padRight(s, 4)
			}
			sb.WriteString(s)
		case kW:
			plain((f.mday-1)/7 + 1)
		case kJ:
			plain(f.days + 2440588) // Julian day of the Unix epoch
		case kFX:
		}
	}
	return sb.String()
}
