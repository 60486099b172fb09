package db

import (
	"testing"
)

// TestTextShape: textShape agrees with decimalShape on canonical numeric texts.
func TestTextShape(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "10", "0.5", "-0.05", "123.456", "1000000", "0.000", "007.10", "-12345678901234567890.123", "NaN", "Infinity", "-Infinity", "1e5", ".5", "5."} {
		scale, ints, ok := textShape(s)
		ws, wd, wok := decimalShape(s)
		if ok != wok || (ok && (scale != ws || ints != wd-ws)) {
			t.Errorf("textShape(%q) = %d, %d, %v; decimalShape: scale %d, digits %d, %v", s, scale, ints, ok, ws, wd, wok)
		}
	}
}
