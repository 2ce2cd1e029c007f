package workspace_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/internal/testenv"
	"github.com/pitlane/pitlane/internal/workspace"
)

// Hooks of features and of the config run in one global order, object
// commands run all their entries, initializeCommand runs on the host at
// create and start, postStart and postAttach again on start and attach,
// and ${containerEnv:...} resolves in remoteEnv.
func TestSpecLifecycleAndFeatures(t *testing.T) {
	m, _ := newManager(t)
	ctx := context.Background()
	src := writeFiles(t, map[string]string{
		".devcontainer/devcontainer.json": `{
			"image": "pitlane/base:bookworm",
			"features": {"./b": {"word": "two words"}, "./a": {}},
			"containerEnv": {"BASE": "base-value"},
			"remoteEnv": {"DERIVED": "${containerEnv:BASE}-derived", "FALLBACK": "${containerEnv:NOPE:dflt}"},
			"runArgs": ["--cap-add=SYS_PTRACE", "-e", "RUN_ARG=1", "--label", "spec.test=yes", "--init"],
			"mounts": ["source=spec-${devcontainerId},target=/cache,type=volume", {"type": "bind", "source": "${localWorkspaceFolder}/shared", "target": "/shared"}],
			"initializeCommand": "echo init >> host-markers",
			"onCreateCommand": "echo onCreate >> /tmp/m",
			"updateContentCommand": ["sh", "-c", "echo updateContent >> /tmp/m"],
			"postCreateCommand": {"x": "touch /tmp/px", "y": ["touch", "/tmp/py"]},
			"postStartCommand": "echo postStart >> /tmp/m",
			"postAttachCommand": "echo postAttach >> /tmp/m",
			"forwardPorts": [3000], "appPort": ["8080:80"], "portsAttributes": {"3000": {"label": "web"}},
			"customizations": {"vscode": {"extensions": ["x.y"]}},
			"hostRequirements": {"cpus": 4096},
		}`,
		".devcontainer/a/devcontainer-feature.json": `{"id": "a", "onCreateCommand": "echo a-onCreate >> /tmp/m", "containerEnv": {"A_ENV": "a"}}`,
		".devcontainer/a/install.sh":                "#!/bin/sh\necho a-install >> /tmp/m\n",
		".devcontainer/b/devcontainer-feature.json": `{"id": "b", "dependsOn": {"./a": {}}, "options": {"word": {"type": "string", "default": "x"}}, "postCreateCommand": "echo b-postCreate >> /tmp/m"}`,
		".devcontainer/b/install.sh":                "#!/bin/sh\necho \"b-install $WORD\" >> /tmp/m\n",
	})
	os.Chmod(filepath.Join(src, ".devcontainer/a/install.sh"), 0o755)
	// Bind sources are never made on the host: the folder must exist.
	os.Mkdir(filepath.Join(src, "shared"), 0o755)
	name := "spec-" + testenv.ID()
	rec := &recorder{}
	ws, err := m.Create(ctx, workspace.CreateOptions{Source: src, Name: name, Progress: rec, Consent: workspace.TrustAll})
	if err != nil {
		t.Fatalf("Create: %v\n%s", err, strings.Join(rec.lines, "\n"))
	}
	want := "a-install\nb-install two words\na-onCreate\nonCreate\nupdateContent\nb-postCreate\npostStart\npostAttach\n"
	if out, _ := execOut(t, m, name, "cat", "/tmp/m"); out != want {
		t.Errorf("order:\n%s\nwant:\n%s", out, want)
	}
	inside, code := execOut(t, m, name, "sh", "-c", "ls /tmp/px /tmp/py && echo $DERIVED $FALLBACK $RUN_ARG $A_ENV && grep -c . /proc/1/comm && cat /proc/1/comm && grep CapEff /proc/self/status && mountpoint -q /cache && mountpoint -q /shared && echo mounts")
	if out := inside; code != 0 ||
		!strings.Contains(out, "base-value-derived dflt 1 a\n") || !strings.Contains(out, "mounts") || strings.Contains(out, "\nsh\n") {
		t.Errorf("inside (code %d):\n%s", code, out)
	}
	if !hasCap(inside, 19) {
		t.Errorf("runArgs --cap-add=SYS_PTRACE: CAP_SYS_PTRACE (bit 19) is not in the effective set:\n%s", inside)
	}
	if !strings.Contains(strings.Join(rec.lines, "\n"), "hostRequirements asks for 4096 CPUs") {
		t.Errorf("no host requirements warning: %q", rec.lines)
	}
	if ws.Ports == nil || len(ws.Ports) != 2 || ws.Ports[0] != 3000 || ws.Ports[1] != 80 {
		t.Errorf("ports = %v", ws.Ports)
	}
	cfg, err := m.DevcontainerConfig(ctx, name)
	if err == nil && len(cfg.Mounts) > 0 {
		// The named volume outlives the container: remove it at the end.
		vol := strings.TrimPrefix(strings.Split(cfg.Mounts[0].Spec, ",")[0], "source=")
		t.Cleanup(func() {
			// Delete (not a bare docker rm) so the built image goes too.
			if err := m.Delete(context.Background(), name, workspace.DeleteOptions{}); err != nil {
				t.Errorf("delete: %v", err)
			}
			exec.Command("docker", "volume", "rm", "-f", vol).Run()
		})
	}
	if err != nil || string(cfg.PortsAttributes["3000"]) != `{"label":"web"}` || len(cfg.MergedCustomizations["vscode"]) != 1 || cfg.HostRequirements.CPUs != 4096 {
		t.Errorf("DevcontainerConfig = %+v, %v", cfg, err)
	}
	if b, _ := os.ReadFile(filepath.Join(src, "host-markers")); string(b) != "init\n" {
		t.Errorf("initializeCommand on the host: %q", b)
	}
	env, err := m.RemoteEnv(ctx, name)
	if err != nil || !strings.Contains(strings.Join(env, "\n"), "DERIVED=base-value-derived") {
		t.Errorf("RemoteEnv = %q, %v", env, err)
	}

	// Stop, start, attach: only postStart and postAttach run again, and
	// initializeCommand runs on the host again.
	if _, err := m.Stop(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start(ctx, name, workspace.StartOptions{Consent: workspace.TrustAll}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Attach(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
	if out, _ := execOut(t, m, name, "cat", "/tmp/m"); out != want+"postStart\npostAttach\n" {
		t.Errorf("after restart and attach:\n%s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(src, "host-markers")); string(b) != "init\ninit\n" {
		t.Errorf("initializeCommand after start: %q", b)
	}
}

func TestSpecRejectsAndFailures(t *testing.T) {
	m, d := newManager(t)
	ctx := context.Background()
	for _, tc := range []struct{ cfg, want string }{
		{`{"image": "pitlane/base:bookworm", "runArgs": ["--memory=1g"]}`, "--memory"},
		{`{"image": "pitlane/base:bookworm", "features": {"./x": {}, "./y": {}}}`, "cycle"},
		{`{"image": "pitlane/base:bookworm", "waitFor": "soon"}`, "waitFor"},
		{`{"image": "pitlane/base:bookworm", "initializeCommand": "exit 4"}`, "initializeCommand"},
	} {
		src := writeFiles(t, map[string]string{
			".devcontainer/devcontainer.json":           tc.cfg,
			".devcontainer/x/devcontainer-feature.json": `{"id": "x", "dependsOn": {"./y": {}}}`,
			".devcontainer/x/install.sh":                "true",
			".devcontainer/y/devcontainer-feature.json": `{"id": "y", "installsAfter": ["x"]}`,
			".devcontainer/y/install.sh":                "true",
		})
		name := "rej-" + testenv.ID()
		_, err := m.Create(ctx, workspace.CreateOptions{Source: src, Name: name, Consent: workspace.TrustAll})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one naming %s", tc.cfg, err, tc.want)
		}
		if cs, _ := d.List(ctx, "dev.pitlane.workspace="+name); len(cs) != 0 {
			t.Errorf("%s: containers left: %d", tc.cfg, len(cs))
		}
	}

	// A failing parallel entry stops the later phases and leaves the
	// workspace inspectable in the error state.
	src := writeFiles(t, map[string]string{".devcontainer.json": `{"image": "pitlane/base:bookworm",
		"onCreateCommand": {"ok": "echo fine", "bad": "echo broken; exit 5"},
		"postCreateCommand": "touch /tmp/should-not-exist"}`})
	name := "par-" + testenv.ID()
	rec := &recorder{}
	ws, err := m.Create(ctx, workspace.CreateOptions{Source: src, Name: name, Progress: rec, Consent: workspace.TrustAll})
	if !errors.Is(err, workspace.ErrHookFailed) || !strings.Contains(err.Error(), "onCreateCommand bad") || ws == nil || ws.State != workspace.StateError {
		t.Fatalf("err = %v, ws = %+v", err, ws)
	}
	lines := strings.Join(rec.lines, "\n")
	if !strings.Contains(lines, "[bad] broken") || !strings.Contains(lines, "[ok] fine") {
		t.Errorf("per-entry output: %s", lines)
	}
	if _, code := execOut(t, m, name, "test", "-e", "/tmp/should-not-exist"); code == 0 {
		t.Error("postCreateCommand ran after onCreateCommand failed")
	}
}

// updateRemoteUserUID gives a non-root remote user the host user's ids.
// The host here may be root, so the test names the ids itself.
func TestSpecUpdateRemoteUserUID(t *testing.T) {
	d := testenv.Docker(t)
	testenv.Isolate(t)
	m := workspace.NewManager(d, workspace.Options{HostIDs: func() (int, int) { return 4321, 4322 }})
	t.Cleanup(func() {
		cs, _ := d.List(context.Background(), workspace.LabelInstance+"="+m.Instance())
		for _, c := range cs {
			d.Remove(context.Background(), c.ID)
			d.RemoveImage(context.Background(), c.Labels[workspace.LabelBuiltImage])
		}
	})
	src := writeFiles(t, map[string]string{
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}, "remoteUser": "dev"}`,
		".devcontainer/Dockerfile":        "FROM pitlane/base:bookworm\nRUN useradd -m dev && touch /home/dev/file\n",
	})
	name := "uid-" + testenv.ID()
	if _, err := m.Create(context.Background(), workspace.CreateOptions{Source: src, Name: name}); err != nil {
		t.Fatal(err)
	}
	if out, _ := execOut(t, m, name, "sh", "-c", "id -un; id -u; id -g; stat -c %u:%g /home/dev/file"); out != "dev\n4321\n4322\n4321:4322\n" {
		t.Errorf("ids: %q", out)
	}
}

// hasCap reports whether the CapEff line in a /proc/PID/status dump has the
// capability bit set.
func hasCap(status string, bit uint) bool {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && n&(1<<bit) != 0
		}
	}
	return false
}
