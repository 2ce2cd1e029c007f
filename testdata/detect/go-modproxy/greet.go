// Package greet says hello.
package greet

import "iter"

// Names yields each name with a greeting; range-over-func needs Go 1.23.
func Names(names ...string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, n := range names {
			if !yield("hello, " + n) {
				return
			}
		}
	}
}
