package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runInProcess runs the CLI in this process, for commands that need no
// engine (config --generate, doctor on a folder).
func runInProcess(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &o, stderr: &e}
	defer a.close()
	root := newRootCommand(a)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
	default:
		e.WriteString("pitlane: " + err.Error() + "\n")
		code = 1
	}
	return o.String(), e.String(), code
}

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if body == "" {
			os.Remove(p)
			continue
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDoctorDrift changes each kind of input a generated config depends on
// and checks that doctor reports it (naming the file, exit status 1), and
// that after regenerating it is clean again.
func TestDoctorDrift(t *testing.T) {
	src := t.TempDir()
	write(t, src, map[string]string{
		"go.mod":                "module example.com/app\n\ngo 1.24.2\n",
		"Makefile":              "test:\n\tgo test ./...\n",
		"web/package.json":      `{"scripts": {"test": "node --test"}, "dependencies": {"ms": "2"}}`,
		"web/package-lock.json": "{}",
	})
	if out, errOut, code := runInProcess(t, "config", src, "--generate", "--write"); code != 0 {
		t.Fatalf("config --generate --write: %d\n%s%s", code, out, errOut)
	}
	if _, _, code := runInProcess(t, "config", src, "--generate", "--write"); code == 0 {
		t.Error("--write replaced an existing config without --force")
	}
	if out, _, code := runInProcess(t, "doctor", src); code != 0 || !strings.Contains(out, "no drift") {
		t.Fatalf("doctor right after generating: %d\n%s", code, out)
	}

	changes := []struct {
		name    string
		files   map[string]string
		kind    string
		file    string
		message string
	}{
		{"newer toolchain", map[string]string{"go.mod": "module example.com/app\n\ngo 1.25.0\n"}, "toolchain", "go.mod", "asks for Go 1.25.0, newer than the 1.24.2"},
		{"new lock file", map[string]string{"web/package-lock.json": "", "web/pnpm-lock.yaml": "lockfileVersion: '9.0'\n"}, "lockfile", "web/pnpm-lock.yaml", "moved from npm to pnpm"},
		{"new Compose service", map[string]string{"compose.yaml": "services:\n  cache:\n    image: redis:7\n"}, "service", "compose.yaml", "names Redis"},
		{"new service in .env.example", map[string]string{".env.example": "DATABASE_URL=postgres://a:b@localhost/app\n"}, "service", ".env.example", "names PostgreSQL"},
		{"test command gone", map[string]string{"Makefile": "build:\n\tgo build ./...\n"}, "test", "go.mod", "Makefile no longer has a `test` target"},
		{"new stack", map[string]string{"tool/Cargo.toml": "[package]\nname = \"tool\"\n"}, "stack", "tool/Cargo.toml", "installs no Rust"},
	}
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) {
			write(t, src, ch.files)
			out, _, code := runInProcess(t, "doctor", src, "--json")
			if code != 1 {
				t.Fatalf("doctor exited %d, want 1 for drift:\n%s", code, out)
			}
			var res struct {
				Clean    bool
				Findings []struct{ Kind, File, Message, Fix string }
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("doctor --json: %v\n%s", err, out)
			}
			found := false
			for _, f := range res.Findings {
				if f.Kind == ch.kind && f.File == ch.file && strings.Contains(f.Message, ch.message) && strings.Contains(f.Fix, "--generate --write") {
					found = true
				}
			}
			// A new stack also changes the test command; any other change
			// is exactly one finding.
			if !found || res.Clean || (len(res.Findings) != 1 && ch.kind != "stack") {
				t.Errorf("want exactly one %s finding on %s saying %q with a fix, got %+v", ch.kind, ch.file, ch.message, res.Findings)
			}
			text, _, _ := runInProcess(t, "doctor", src)
			if !strings.Contains(text, ch.file) || !strings.Contains(text, "fix:") {
				t.Errorf("doctor's text names no file or fix:\n%s", text)
			}
			if out, errOut, code := runInProcess(t, "config", src, "--generate", "--write", "--force"); code != 0 {
				t.Fatalf("regenerating: %s%s", out, errOut)
			}
			if out, _, code := runInProcess(t, "doctor", src); code != 0 {
				t.Errorf("doctor after regenerating exited %d:\n%s", code, out)
			}
		})
	}
}

// TestDoctorHandWritten checks a config written by hand: a language it
// lacks, and a version older than the repository asks for.
func TestDoctorHandWritten(t *testing.T) {
	src := t.TempDir()
	write(t, src, map[string]string{
		"go.mod":                          "module example.com/app\n\ngo 1.24.2\n",
		"package.json":                    `{"name": "web"}`,
		".devcontainer/devcontainer.json": `{"image": "mcr.microsoft.com/devcontainers/go:1-1.22-bookworm"}`,
	})
	out, _, code := runInProcess(t, "doctor", src)
	if code != 1 {
		t.Fatalf("doctor exited %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{"go.mod:3: go.mod asks for Go 1.24.2, newer than the 1.22", "package.json: package.json is a Node project", "fix: raise Go"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	write(t, src, map[string]string{
		".devcontainer/devcontainer.json": `{"image": "mcr.microsoft.com/devcontainers/go:1-1.24-bookworm", "features": {"ghcr.io/devcontainers/features/node:1": {"version": "20"}}}`,
	})
	if out, _, code := runInProcess(t, "doctor", src); code != 0 {
		t.Errorf("doctor exited %d for a config that fits:\n%s", code, out)
	}
}

func TestDoctorWithoutConfig(t *testing.T) {
	src := t.TempDir()
	write(t, src, map[string]string{"go.mod": "module a\n\ngo 1.22\n"})
	out, _, code := runInProcess(t, "doctor", src)
	if code != 0 || !strings.Contains(out, "no devcontainer.json") {
		t.Errorf("doctor without a config: %d\n%s", code, out)
	}
}

func TestConfigGenerate(t *testing.T) {
	src := t.TempDir()
	write(t, src, map[string]string{"go.mod": "module a\n\ngo 1.24.2\n", ".python-version": "3.13\n", "requirements.txt": "pytest\n"})
	out, errOut, code := runInProcess(t, "config", src, "--generate")
	if code != 0 {
		t.Fatalf("%d: %s", code, errOut)
	}
	for _, want := range []string{"==> .devcontainer/devcontainer.json", "==> .devcontainer/Dockerfile", "asked by go.mod:3 (go 1.24.2)", "WARNING: Python 3.13 asked by .python-version"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if !strings.Contains(errOut, "warning: Python 3.13 asked by .python-version") {
		t.Errorf("no warning on stderr: %s", errOut)
	}
	if _, err := os.Stat(filepath.Join(src, ".devcontainer")); err == nil {
		t.Error("--generate without --write wrote files")
	}
	if _, errOut, code := runInProcess(t, "config", src, "--write"); code == 0 || !strings.Contains(errOut, "--write goes with --generate") {
		t.Errorf("--write alone: %d %s", code, errOut)
	}
}
