package mono

import "testing"

func TestHealth(t *testing.T) {
	if Health() != "ok" {
		t.Fatal(Health())
	}
}
