package workspace_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/docker"
	"github.com/pitlane/pitlane/internal/testenv"
	"github.com/pitlane/pitlane/internal/workspace"
)

// newManager gives a test its own instance and data folder on the real
// engine, and removes whatever the test leaves when it ends.
func newManager(t *testing.T) (*workspace.Manager, *docker.Client) {
	t.Helper()
	d := testenv.Docker(t)
	inst := testenv.Isolate(t)
	m := workspace.NewManager(d, workspace.Options{})
	testenv.RemoveInstance(t, d, inst)
	return m, d
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func execOut(t *testing.T, m *workspace.Manager, name string, cmd ...string) (string, int) {
	t.Helper()
	var out strings.Builder
	code, err := m.Exec(context.Background(), name, workspace.ExecOptions{Cmd: cmd, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("exec %q: %v", cmd, err)
	}
	return out.String(), code
}

// recorder keeps progress for assertions.
type recorder struct {
	mu     sync.Mutex
	steps  []string
	lines  []string
	onStep func(string)
}

func (r *recorder) Step(s string) {
	r.mu.Lock()
	r.steps = append(r.steps, s)
	f := r.onStep
	r.mu.Unlock()
	if f != nil {
		f(s)
	}
}
func (r *recorder) Output(s string) { r.mu.Lock(); r.lines = append(r.lines, s); r.mu.Unlock() }

const imageConfig = `{
  // comments are fine
  "image": "pitlane/base:bookworm",
  "containerEnv": {"FROM_CONTAINER_ENV": "c-${localWorkspaceFolderBasename}"},
  "remoteEnv": {"FROM_REMOTE_ENV": "r1"},
  "onCreateCommand": "echo on-create >> /tmp/hooks",
  "postCreateCommand": ["sh", "-c", "echo post-create >> /tmp/hooks; touch created-marker"],
  "postStartCommand": "echo post-start >> /tmp/hooks",
}`

func TestCreateLocalFolderLifecycle(t *testing.T) {
	m, d := newManager(t)
	ctx := context.Background()
	src := writeFiles(t, map[string]string{".devcontainer/devcontainer.json": imageConfig})
	name := "local-" + testenv.ID()
	rec := &recorder{}
	ws, err := m.Create(ctx, workspace.CreateOptions{Source: src, Name: name, Progress: rec})
	if err != nil {
		t.Fatalf("Create: %v\n%s", err, strings.Join(rec.lines, "\n"))
	}
	if ws.State != workspace.StateRunning || ws.ConfigKind != workspace.KindDevcontainer || !ws.Source.Local {
		t.Errorf("workspace = %+v", ws)
	}
	if !ws.LastUsedAt.IsZero() {
		t.Errorf("a workspace nobody used yet has lastUsedAt %v", ws.LastUsedAt)
	}
	wantFolder := "/workspaces/" + filepath.Base(src)
	if ws.Folder != wantFolder || ws.SSHHost != name+".pitlane" {
		t.Errorf("folder %q host %q", ws.Folder, ws.SSHHost)
	}

	// Hooks ran, in order, in the workspace folder (the marker lands in
	// the bind-mounted source).
	if out, _ := execOut(t, m, name, "cat", "/tmp/hooks"); out != "on-create\npost-create\npost-start\n" {
		t.Errorf("hooks ran as %q", out)
	}
	if _, err := os.Stat(filepath.Join(src, "created-marker")); err != nil {
		t.Errorf("postCreateCommand's marker is not in the source folder: %v", err)
	}
	// containerEnv is in the container, remoteEnv in exec, the folder is
	// the working directory.
	out, _ := execOut(t, m, name, "sh", "-c", `echo "$FROM_CONTAINER_ENV|$FROM_REMOTE_ENV|$(pwd)"`)
	if want := "c-" + filepath.Base(src) + "|r1|" + wantFolder + "\n"; out != want {
		t.Errorf("env and folder = %q, want %q", out, want)
	}
	if _, code := execOut(t, m, name, "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit code = %d, want 7", code)
	}
	if got, err := m.Get(ctx, name); err != nil || got.LastUsedAt.IsZero() {
		t.Errorf("exec did not record the workspace as used: %+v %v", got, err)
	}

	// Labels make the workspace findable with plain docker.
	cs, err := d.List(ctx, "dev.pitlane.workspace="+name)
	if err != nil || len(cs) != 1 || cs[0].Name != "pitlane-"+name {
		t.Fatalf("docker ps by label: %v %+v", err, cs)
	}
	list, err := m.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != name {
		t.Fatalf("List = %v, %v", list, err)
	}

	// Stop and start: postStartCommand runs again, the others do not.
	if ws, err := m.Stop(ctx, name); err != nil || ws.State != workspace.StateStopped {
		t.Fatalf("Stop = %+v, %v", ws, err)
	}
	if _, err := m.Start(ctx, name, workspace.StartOptions{}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if out, _ := execOut(t, m, name, "cat", "/tmp/hooks"); out != "on-create\npost-create\npost-start\npost-start\n" {
		t.Errorf("after restart hooks ran as %q", out)
	}
	if b, err := os.ReadFile(m.LogPath(name)); err != nil || !strings.Contains(string(b), "Running postCreateCommand") {
		t.Errorf("log: %v\n%s", err, b)
	}

	// Delete leaves nothing: no container, no data.
	if err := m.Delete(ctx, name, workspace.DeleteOptions{}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if cs, _ := d.List(ctx, "dev.pitlane.workspace="+name); len(cs) != 0 {
		t.Errorf("containers left after delete: %+v", cs)
	}
	if _, err := os.Stat(filepath.Join(m.DataDir(), "workspaces", name)); !os.IsNotExist(err) {
		t.Errorf("data left after delete: %v", err)
	}
	if _, err := os.Stat(src); err != nil {
		t.Errorf("the local source folder was touched: %v", err)
	}
	if _, err := m.Get(ctx, name); !errors.Is(err, workspace.ErrNotFound) {
		t.Errorf("Get after delete: %v", err)
	}
}

func TestCreateFromGitWithDockerfile(t *testing.T) {
	m, d := newManager(t)
	ctx := context.Background()
	repo := writeFiles(t, map[string]string{
		"Dockerfile": "FROM pitlane/base:bookworm\nRUN useradd -m dev && echo built > /built\nUSER dev\n",
		"README":     "hello\n",
	})
	gitEnv := append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"commit", "-q", "-m", "init"}, {"checkout", "-q", "-b", "topic"}, {"checkout", "-q", "main"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = repo, gitEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	name := "git-" + testenv.ID()
	ws, err := m.Create(ctx, workspace.CreateOptions{Source: "file://" + repo, Branch: "topic", Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if ws.ConfigKind != workspace.KindDockerfile || ws.Source.Ref != "topic" || ws.Source.Local || ws.RemoteUser != "dev" {
		t.Errorf("workspace = %+v", ws)
	}
	out, _ := execOut(t, m, name, "sh", "-c", "cat /built README; id -un")
	if out != "built\nhello\ndev\n" {
		t.Errorf("inside: %q", out)
	}
	// Root owns the clone here, so ask git as root.
	var branch strings.Builder
	if _, err := m.Exec(ctx, name, workspace.ExecOptions{User: "root", Cmd: []string{"git", "rev-parse", "--abbrev-ref", "HEAD"}, Stdout: &branch, Stderr: &branch}); err != nil || branch.String() != "topic\n" {
		t.Errorf("branch: %q %v", branch.String(), err)
	}
	if !strings.HasPrefix(ws.LocalFolder, m.DataDir()) {
		t.Errorf("clone at %s, not under the data folder %s", ws.LocalFolder, m.DataDir())
	}
	img := "pitlane-" + name + ":latest"
	if ok, _ := d.ImageExists(ctx, img); !ok {
		t.Errorf("built image %s missing", img)
	}
	if err := m.Delete(ctx, name, workspace.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := d.ImageExists(ctx, img); ok {
		t.Errorf("built image %s left after delete", img)
	}
	if _, err := os.Stat(ws.LocalFolder); !os.IsNotExist(err) {
		t.Errorf("clone left after delete")
	}
}

func TestCreateDefaultImage(t *testing.T) {
	m, _ := newManager(t)
	src := writeFiles(t, map[string]string{"main.go": "package main\n"})
	rec := &recorder{}
	ws, err := m.Create(context.Background(), workspace.CreateOptions{Source: src, Name: "def-" + testenv.ID(), Progress: rec})
	if err != nil {
		t.Fatal(err)
	}
	if ws.ConfigKind != workspace.KindDefault || ws.Image != workspace.DefaultImage {
		t.Errorf("workspace = %+v", ws)
	}
	if !strings.Contains(strings.Join(rec.lines, "\n"), "default image") {
		t.Errorf("the user was not told the default image is used: %q", rec.lines)
	}
}

func TestConcurrentCreateSameName(t *testing.T) {
	m, d := newManager(t)
	src := writeFiles(t, map[string]string{".devcontainer.json": `{"image":"pitlane/base:bookworm","postCreateCommand":"sleep 1"}`})
	name := "race-" + testenv.ID()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = m.Create(context.Background(), workspace.CreateOptions{Source: src, Name: name})
		}()
	}
	wg.Wait()
	ok, failed := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, workspace.ErrBusy) || errors.Is(err, workspace.ErrNameTaken):
			failed++
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error does not name the workspace: %v", err)
			}
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || failed != 1 {
		t.Fatalf("%d succeeded, %d failed clearly: %v", ok, failed, errs)
	}
	if cs, _ := d.List(context.Background(), "dev.pitlane.workspace="+name); len(cs) != 1 {
		t.Errorf("%d containers, want 1", len(cs))
	}
	// And a create of an existing name says so.
	_, err := m.Create(context.Background(), workspace.CreateOptions{Source: src, Name: name})
	if !errors.Is(err, workspace.ErrNameTaken) {
		t.Errorf("create of an existing name: %v", err)
	}
}

func TestCancelDuringBuildLeavesNothing(t *testing.T) {
	m, d := newManager(t)
	src := writeFiles(t, map[string]string{
		".devcontainer/devcontainer.json": `{"build":{"dockerfile":"Dockerfile"}}`,
		".devcontainer/Dockerfile":        "FROM pitlane/base:bookworm\nRUN echo building " + testenv.ID() + " && sleep 60\n",
	})
	name := "cancel-" + testenv.ID()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{}
	rec.onStep = func(s string) {
		if s == "Building image" {
			time.AfterFunc(2*time.Second, cancel)
		}
	}
	start := time.Now()
	_, err := m.Create(ctx, workspace.CreateOptions{Source: src, Name: name, Progress: rec})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("cancel took %v", time.Since(start))
	}
	bg := context.Background()
	if cs, _ := d.List(bg, "dev.pitlane.workspace="+name); len(cs) != 0 {
		t.Errorf("containers left: %+v", cs)
	}
	if _, err := os.Stat(filepath.Join(m.DataDir(), "workspaces", name)); !os.IsNotExist(err) {
		t.Errorf("data left behind: %v", err)
	}
	// Running create again works.
	os.WriteFile(filepath.Join(src, ".devcontainer", "Dockerfile"), []byte("FROM pitlane/base:bookworm\n"), 0o644)
	if _, err := m.Create(bg, workspace.CreateOptions{Source: src, Name: name}); err != nil {
		t.Fatalf("create after cancel: %v", err)
	}
}

func TestHookFailureKeepsWorkspace(t *testing.T) {
	m, _ := newManager(t)
	src := writeFiles(t, map[string]string{".devcontainer.json": `{"image":"pitlane/base:bookworm","postCreateCommand":"echo oops; exit 3"}`})
	name := "hookfail-" + testenv.ID()
	ws, err := m.Create(context.Background(), workspace.CreateOptions{Source: src, Name: name})
	if !errors.Is(err, workspace.ErrHookFailed) || !strings.Contains(err.Error(), "status 3") {
		t.Fatalf("err = %v, want a hook failure with its status", err)
	}
	if ws == nil || ws.State != workspace.StateError {
		t.Fatalf("workspace = %+v", ws)
	}
	got, err := m.Get(context.Background(), name)
	if err != nil || got.State != workspace.StateError || got.LastError == "" {
		t.Errorf("Get = %+v, %v", got, err)
	}
	// Still inspectable.
	if out, code := execOut(t, m, name, "true"); out != "" || code != 0 {
		t.Errorf("exec in a failed workspace: %d %q", code, out)
	}
	if b, _ := os.ReadFile(m.LogPath(name)); !strings.Contains(string(b), "oops") {
		t.Errorf("hook output not in the log: %s", b)
	}
}

func TestMalformedConfig(t *testing.T) {
	m, d := newManager(t)
	src := writeFiles(t, map[string]string{".devcontainer/devcontainer.json": "{\n  \"image\": \"pitlane/base:bookworm\"\n  \"name\": \"x\"\n}\n"})
	name := "bad-" + testenv.ID()
	_, err := m.Create(context.Background(), workspace.CreateOptions{Source: src, Name: name})
	want := filepath.Join(src, ".devcontainer", "devcontainer.json") + ":3:3"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to point at %s", err, want)
	}
	if cs, _ := d.List(context.Background(), "dev.pitlane.workspace="+name); len(cs) != 0 {
		t.Errorf("containers left: %+v", cs)
	}
}

func TestWatchSeesOtherManagers(t *testing.T) {
	m, d := newManager(t)
	other := workspace.NewManager(d, workspace.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	events, err := m.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := writeFiles(t, map[string]string{".devcontainer.json": `{"image":"pitlane/base:bookworm"}`})
	name := "watch-" + testenv.ID()
	if _, err := other.Create(ctx, workspace.CreateOptions{Source: src, Name: name}); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, ok func(workspace.Event) bool) {
		t.Helper()
		for {
			select {
			case ev := <-events:
				if ev.Name == name && ok(ev) {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no event for %s", what)
			}
		}
	}
	waitFor("running", func(ev workspace.Event) bool {
		return ev.Workspace != nil && ev.Workspace.State == workspace.StateRunning
	})
	if _, err := other.Stop(ctx, name); err != nil {
		t.Fatal(err)
	}
	waitFor("stopped", func(ev workspace.Event) bool { return ev.Kind == workspace.EventStopped })
	if err := other.Delete(ctx, name, workspace.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("deleted", func(ev workspace.Event) bool { return ev.Kind == workspace.EventDeleted })
}

func TestRebuild(t *testing.T) {
	m, d := newManager(t)
	ctx := context.Background()
	src := writeFiles(t, map[string]string{
		".devcontainer/devcontainer.json": `{"build":{"dockerfile":"Dockerfile"},"postCreateCommand":"echo created >> /tmp/hooks"}`,
		".devcontainer/Dockerfile":        "FROM pitlane/base:bookworm\nRUN echo v1 > /version\n",
	})
	name := "rebuild-" + testenv.ID()
	first, err := m.Create(ctx, workspace.CreateOptions{Source: src, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	execOut(t, m, name, "touch", "/tmp/only-in-first")

	os.WriteFile(filepath.Join(src, ".devcontainer", "Dockerfile"), []byte("FROM pitlane/base:bookworm\nRUN echo v2 > /version\n"), 0o644)
	second, err := m.Rebuild(ctx, name, workspace.RebuildOptions{})
	if err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if second.ContainerID == first.ContainerID || second.State != workspace.StateRunning {
		t.Errorf("rebuilt workspace = %+v", second)
	}
	if out, _ := execOut(t, m, name, "sh", "-c", "cat /version /tmp/hooks; ls /tmp/only-in-first 2>&1 || true"); !strings.HasPrefix(out, "v2\ncreated\n") || !strings.Contains(out, "No such file") {
		t.Errorf("after rebuild: %q", out)
	}
	if out, err := exec.Command("docker", "images", "-q", "--filter", "label=dev.pitlane.workspace="+name).Output(); err != nil || len(strings.Fields(string(out))) != 1 {
		t.Errorf("images of the workspace after a rebuild: %q (%v), want exactly one", out, err)
	}

	// A rebuild that cannot build leaves the workspace as it was.
	os.WriteFile(filepath.Join(src, ".devcontainer", "Dockerfile"), []byte("FROM pitlane/base:bookworm\nRUN echo broken && false\n"), 0o644)
	execOut(t, m, name, "touch", "/tmp/kept")
	_, err = m.Rebuild(ctx, name, workspace.RebuildOptions{})
	if err == nil || !strings.Contains(err.Error(), "as it was") {
		t.Fatalf("broken rebuild: %v", err)
	}
	after, err := m.Get(ctx, name)
	if err != nil || after.ContainerID != second.ContainerID || after.State != workspace.StateRunning {
		t.Fatalf("after a failed rebuild: %+v, %v", after, err)
	}
	if out, code := execOut(t, m, name, "sh", "-c", "cat /version; ls /tmp/kept"); code != 0 || out != "v2\n/tmp/kept\n" {
		t.Errorf("the old container's state was lost: %d %q", code, out)
	}
	if cs, _ := d.List(ctx, "dev.pitlane.workspace="+name); len(cs) != 1 {
		t.Errorf("%d containers after a failed rebuild, want 1", len(cs))
	}
}

// TestInterruptedRebuildRecovers simulates a rebuild whose process died
// after setting the old container aside: the next look-up puts it back.
func TestInterruptedRebuildRecovers(t *testing.T) {
	m, d := newManager(t)
	ctx := context.Background()
	src := writeFiles(t, map[string]string{".devcontainer.json": `{"image":"pitlane/base:bookworm"}`})
	name := "aside-" + testenv.ID()
	ws, err := m.Create(ctx, workspace.CreateOptions{Source: src, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Rename(ctx, ws.ContainerID, workspace.ContainerName(name)+"-previous"); err != nil {
		t.Fatal(err)
	}
	got, err := m.Get(ctx, name)
	if err != nil || got.ContainerID != ws.ContainerID {
		t.Fatalf("Get after an interrupted rebuild: %+v, %v", got, err)
	}
	if c, err := d.Inspect(ctx, workspace.ContainerName(name)); err != nil || c.ID != ws.ContainerID {
		t.Errorf("the container did not get its name back: %v", err)
	}
}

// TestCreateKeepsOrphanedClone: when a workspace's container was removed
// by hand, its clone is not wiped by the next create of the same name.
func TestCreateKeepsOrphanedClone(t *testing.T) {
	m, d := newManager(t)
	ctx := context.Background()
	repo := writeFiles(t, map[string]string{".devcontainer.json": `{"image":"pitlane/base:bookworm"}`})
	gitEnv := append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "init"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = repo, gitEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	name := "orphan-" + testenv.ID()
	ws, err := m.Create(ctx, workspace.CreateOptions{Source: "file://" + repo, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(ws.LocalFolder, "unsaved.txt")
	os.WriteFile(work, []byte("precious"), 0o644)
	if err := d.Remove(ctx, ws.ContainerID); err != nil {
		t.Fatal(err)
	}
	_, err = m.Create(ctx, workspace.CreateOptions{Source: "file://" + repo, Name: name})
	if !errors.Is(err, workspace.ErrNameTaken) || !strings.Contains(err.Error(), "pitlane delete "+name) {
		t.Fatalf("create over an orphaned clone: %v", err)
	}
	if b, err := os.ReadFile(work); err != nil || string(b) != "precious" {
		t.Fatalf("the user's work was lost: %v", err)
	}
	// Without its container the clone still counts: delete refuses to
	// lose the work until told to.
	err = m.Delete(ctx, name, workspace.DeleteOptions{})
	var uw *workspace.UnsavedWorkError
	if !errors.As(err, &uw) || len(uw.Work.Changes) != 1 || !strings.Contains(uw.Work.Changes[0], "unsaved.txt") {
		t.Fatalf("delete of a clone with unsaved work: %v", err)
	}
	if b, err := os.ReadFile(work); err != nil || string(b) != "precious" {
		t.Fatalf("the user's work was lost: %v", err)
	}
	if err := m.Delete(ctx, name, workspace.DeleteOptions{DiscardChanges: true}); err != nil {
		t.Fatalf("delete of the orphaned data: %v", err)
	}
	if _, err := m.Create(ctx, workspace.CreateOptions{Source: "file://" + repo, Name: name}); err != nil {
		t.Fatalf("create after delete: %v", err)
	}
}

// TestMissingDefaultImageSaysHowToBuildIt: the default image is built
// locally; when it is missing, the error says how to get it. (The image
// names a registry on a closed loopback port: the pull fails at once and
// nothing leaves the machine.)
func TestMissingDefaultImageSaysHowToBuildIt(t *testing.T) {
	d := testenv.Docker(t)
	inst := testenv.Isolate(t)
	testenv.RemoveInstance(t, d, inst)
	m := workspace.NewManager(d, workspace.Options{DefaultImage: "127.0.0.1:1/pitlane-missing-" + testenv.ID() + ":none"})
	src := writeFiles(t, map[string]string{"README": "no config here\n"})
	_, err := m.Create(context.Background(), workspace.CreateOptions{Source: src, Name: "noimg-" + testenv.ID()})
	if err == nil || !strings.Contains(err.Error(), "make base-image") {
		t.Fatalf("err = %v, want it to say how to build the default image", err)
	}
}
