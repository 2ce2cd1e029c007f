package old

import "testing"

func TestSum(t *testing.T) {
	if Sum(1, 2, 3) != 6 || Sum(0.5, 0.25) != 0.75 {
		t.Fatal("wrong sum")
	}
}
