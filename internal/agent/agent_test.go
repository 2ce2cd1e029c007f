package agent

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHelloRoundTrip(t *testing.T) {
	var b bytes.Buffer
	h := Hello{HostKey: []byte("-----BEGIN KEY-----\nx\n"), AuthorizedKey: []byte("ssh-ed25519 AAAA\n")}
	if err := WriteHello(&b, h); err != nil {
		t.Fatal(err)
	}
	b.WriteString("SSH-2.0-OpenSSH\r\n")
	r := bufio.NewReader(&b)
	got, err := ReadHello(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.HostKey) != string(h.HostKey) || string(got.AuthorizedKey) != string(h.AuthorizedKey) {
		t.Fatalf("got %+v", got)
	}
	rest, _ := r.ReadString('\n')
	if rest != "SSH-2.0-OpenSSH\r\n" {
		t.Fatalf("the SSH stream after the line is %q", rest)
	}
}

func TestReadHelloRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"ssh first":   "SSH-2.0-OpenSSH_9.2\r\n",
		"bad json":    helloPrefix + "{\n",
		"missing key": helloPrefix + `{"hostKey":"eA=="}` + "\n",
	} {
		if _, err := ReadHello(bufio.NewReader(strings.NewReader(in))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLookupUID(t *testing.T) {
	p := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(p, []byte("root:x:0:0:root:/root:/bin/bash\n# comment\ndev:x:1000:1000:Dev,,,:/home/dev:/usr/bin/zsh\nbad line\n"), 0o644)
	if got := lookupUID(p, 1000); got != (passwdEntry{"dev", "/home/dev", "/usr/bin/zsh"}) {
		t.Errorf("uid 1000: %+v", got)
	}
	if got := lookupUID(p, 42); got != (passwdEntry{}) {
		t.Errorf("unknown uid: %+v", got)
	}
}

func TestInstallVerifiesChecksum(t *testing.T) {
	dir := t.TempDir()
	staged := filepath.Join(dir, "staged")
	os.WriteFile(staged, []byte("binary"), 0o600)
	err := Install(staged, strings.Repeat("0", 64))
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("Install of a mismatching file: %v", err)
	}
	if _, err := os.Stat(staged); !os.IsNotExist(err) {
		t.Error("the damaged copy was kept")
	}
}
