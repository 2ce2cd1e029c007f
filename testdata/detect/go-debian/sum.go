// Package old sums numbers with generics (Go 1.18 and later).
package old

// Sum adds up xs.
func Sum[T int | float64](xs ...T) T {
	var s T
	for _, x := range xs {
		s += x
	}
	return s
}
