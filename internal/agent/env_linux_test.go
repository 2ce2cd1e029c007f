//go:build linux

package agent

import (
	"reflect"
	"testing"
)

func TestSetEnv(t *testing.T) {
	env := []string{"A=1", "PATH=/bin", "B=2", "A=3"}
	got := setEnv(env, "A", "9")
	if want := []string{"PATH=/bin", "B=2", "A=9"}; !reflect.DeepEqual(got, want) {
		t.Errorf("setEnv = %q, want %q", got, want)
	}
	if env[0] != "A=1" {
		t.Error("setEnv changed its input")
	}
	if getEnv(got, "B") != "2" || getEnv(got, "C") != "" {
		t.Error("getEnv")
	}
}
