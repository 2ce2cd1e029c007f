package main

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/internal/agent"
)

func TestWorkspaceName(t *testing.T) {
	for host, want := range map[string]string{
		"api.pitlane": "api", "API.Pitlane.": "api", "api": "api", "a.b.pitlane": "a.b",
	} {
		if got := workspaceName(host); got != want {
			t.Errorf("workspaceName(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestParsePorts(t *testing.T) {
	got, err := parsePorts([]string{"3000", "5432:15432"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []portPair{{3000, 3000}, {5432, 15432}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"x", "0", "70000", "80:", "80:y"} {
		if _, err := parsePorts([]string{bad}); err == nil {
			t.Errorf("parsePorts(%q) accepted", bad)
		}
	}
}

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"ls": "ls", "a b": "'a b'", "it's": `'it'\''s'`, "": "''", "$HOME": "'$HOME'", "k=v": "k=v",
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}

// The Ready line may arrive split over several writes and glued to the
// first SSH bytes; it is removed and the gate opens.
func TestReadyWriterStripsReady(t *testing.T) {
	var out bytes.Buffer
	g := &gate{ready: make(chan struct{}), failed: make(chan struct{})}
	w := &readyWriter{out: &out, g: g}
	msg := agent.Ready + "SSH-2.0-Pitlane\r\n"
	for _, part := range []string{msg[:5], msg[5:20], msg[20:]} {
		if _, err := w.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	if !g.isReady() {
		t.Fatal("the gate did not open")
	}
	if out.String() != "SSH-2.0-Pitlane\r\n" {
		t.Fatalf("passed on %q", out.String())
	}
}

// Output that is not the Ready line (the runtime's complaint about a
// missing file) is held for the error message and never reaches the SSH
// client, and the client's input is not read.
func TestReadyWriterHoldsOtherOutput(t *testing.T) {
	var out bytes.Buffer
	g := &gate{ready: make(chan struct{}), failed: make(chan struct{})}
	w := &readyWriter{out: &out, g: g}
	w.Write([]byte("OCI runtime exec failed: no such file or directory\n"))
	if g.isReady() || out.Len() != 0 {
		t.Fatalf("ready=%v, passed on %q", g.isReady(), out.String())
	}
	if !strings.Contains(w.held(), "no such file") {
		t.Fatalf("held %q", w.held())
	}
	client := strings.NewReader("SSH-2.0-OpenSSH\r\n")
	r := &gatedReader{pre: []byte("hello\n"), in: client, g: g}
	g.fail()
	b, _ := io.ReadAll(r)
	if string(b) != "hello\n" || client.Len() == 0 {
		t.Fatalf("read %q; client input left %d bytes", b, client.Len())
	}
}
