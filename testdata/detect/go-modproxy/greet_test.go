package greet

import (
	"runtime"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	var got []string
	for g := range Names("ada", "bob") {
		got = append(got, g)
	}
	if strings.Join(got, ";") != "hello, ada;hello, bob" {
		t.Fatal(got)
	}
}

func TestToolchain(t *testing.T) {
	if runtime.Version() != "go1.24.2" {
		t.Fatalf("built with %s, want the go.mod's go1.24.2", runtime.Version())
	}
}
