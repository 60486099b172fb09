package main

import (
	"fmt"
	"math/big"
)

func fmtVal(v any) string {
	switch x := v.(type) {
	case *big.Int:
		return x.String()
	case int32:
		return fmt.Sprint(int64(x))
	case float64:
		return fmt.Sprintf("%.9g", x)
	}
	return fmt.Sprint(v)
}
