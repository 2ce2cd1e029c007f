package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/internal/testenv"
)

// TestProviderCommands drives `pitlane provider` through the real binary:
// add (checked and unchecked), list, use, remove, and the errors of each.
// It needs no engine and no cluster: the kubeconfigs point at nothing, or
// at a loopback port nothing listens on.
func TestProviderCommands(t *testing.T) {
	testenv.Isolate(t)
	c := &cli{t: t, bin: testenv.Binary(t)}
	dir := t.TempDir()

	// No kubeconfig: refused, nothing saved.
	t.Setenv("KUBECONFIG", filepath.Join(dir, "missing"))
	_, errOut, code := c.run("provider", "add", "team", "kubernetes", "--namespace", "ws")
	if code == 0 || !strings.Contains(errOut, "no Kubernetes configuration") || !strings.Contains(errOut, "nothing was saved") {
		t.Fatalf("add without a kubeconfig: exit %d\n%s", code, errOut)
	}
	// A context the kubeconfig lacks: refused, with the ones it has.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	kc := filepath.Join(dir, "config")
	os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://`+addr+`", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: lab, context: {cluster: c, user: u}}]
current-context: lab
`), 0o600)
	_, errOut, code = c.run("provider", "add", "team", "kubernetes", "--kubeconfig", kc, "--context", "prod")
	if code == 0 || !strings.Contains(errOut, `no context "prod"`) || !strings.Contains(errOut, "lab") {
		t.Fatalf("add with a missing context: exit %d\n%s", code, errOut)
	}
	// A cluster that does not answer: saved, with a warning.
	out, errOut, code := c.run("provider", "add", "team", "kubernetes", "--kubeconfig", kc, "--namespace", "ws",
		"--storage-class", "fast", "--image-registry", "registry.example.com/team")
	if code != 0 || !strings.Contains(errOut, "does not answer") || !strings.Contains(out, "Added provider team") {
		t.Fatalf("add of an unreachable cluster: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code = c.run("provider", "add", "team", "kubernetes", "--no-check"); code == 0 || !strings.Contains(errOut, "exists") {
		t.Fatalf("adding a name twice: exit %d\n%s", code, errOut)
	}
	if _, errOut, code = c.run("provider", "add", "box", "docker", "--namespace", "x"); code == 0 || !strings.Contains(errOut, "for kubernetes providers") {
		t.Fatalf("a kubernetes flag on a docker provider: exit %d\n%s", code, errOut)
	}
	if _, _, code = c.run("provider", "add", "box", "docker", "--host", "ssh://me@box.example.com"); code != 0 {
		t.Fatalf("adding a docker provider: exit %d", code)
	}

	if _, _, code = c.run("provider", "use", "team"); code != 0 {
		t.Fatal("use failed")
	}
	out, _, _ = c.run("provider", "list")
	for _, want := range []string{"  docker  ", "* team ", "namespace ws", "storage class fast", "registry registry.example.com/team", "ssh://me@box.example.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = c.run("provider", "list", "--json")
	var ps []struct {
		Name, Type, Namespace string
		Default, BuiltIn      bool
	}
	if err := json.Unmarshal([]byte(out), &ps); err != nil || len(ps) != 3 {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	if ps[0].Name != "docker" || !ps[0].BuiltIn || ps[2].Name != "team" || !ps[2].Default || ps[2].Namespace != "ws" {
		t.Fatalf("list --json = %+v", ps)
	}

	if _, errOut, code = c.run("provider", "remove", "docker"); code == 0 || !strings.Contains(errOut, "built-in") {
		t.Fatalf("removing the built-in: exit %d\n%s", code, errOut)
	}
	if _, _, code = c.run("provider", "remove", "team"); code != 0 {
		t.Fatal("remove failed")
	}
	if _, errOut, code = c.run("provider", "use", "team"); code == 0 || !strings.Contains(errOut, "provider list") {
		t.Fatalf("use of a removed provider: exit %d\n%s", code, errOut)
	}
	out, _, _ = c.run("provider", "list")
	if !strings.Contains(out, "* docker") || strings.Contains(out, "team") {
		t.Fatalf("after removing the default, docker is the default again:\n%s", out)
	}
}
