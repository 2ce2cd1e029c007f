package workspace_test

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/docker"
	"github.com/pitlane/pitlane/internal/testenv"
	"github.com/pitlane/pitlane/internal/workspace"
)

// The Docker runtime runs Compose projects.
var _ workspace.Composer = (*docker.Client)(nil)

// composeDown takes a test's project down when the test ends, with its
// volumes, whatever the test did.
func composeDown(t *testing.T, d *docker.Client, project string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		kept, err := d.ComposeDown(ctx, project, true, nil)
		if err != nil {
			t.Logf("taking down %s: %v", project, err)
		}
		for _, v := range kept {
			_ = d.RemoveVolume(ctx, v)
		}
	})
}

// services maps each service of a project to its container's state.
func services(t *testing.T, d *docker.Client, project string) map[string]string {
	t.Helper()
	cs, err := d.ComposeContainers(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range cs {
		out[c.Service] = c.State
	}
	return out
}

// dbServer answers every connection on port 7000 with one line.
const dbServer = `["perl", "-MIO::Socket::INET", "-e", "$$s = IO::Socket::INET->new(LocalPort => 7000, Listen => 5, ReuseAddr => 1) or die; while ($$c = $$s->accept) { print $$c qq(pong-from-db\n); close $$c }"]`

// A two-service project from two files (the second overriding the
// first), named by a top-level name: interpolated from the .env beside
// the first file, whose workspace service is built from a Dockerfile
// target with a local feature on top; runServices leaves a third service
// out. One project serves the lifecycle subtests in order.
func TestComposeWorkspace(t *testing.T) {
	m, d := newManager(t)
	suffix := testenv.ID()
	project := "pitlane-ct-" + suffix
	src := writeFiles(t, map[string]string{
		".devcontainer/devcontainer.json": `{
  // a Compose config
  "dockerComposeFile": ["compose.yaml", "compose.extra.yaml"],
  "service": "app",
  "runServices": ["app", "db"],
  "workspaceFolder": "/workspace",
  "features": {"./feat": {}},
  "containerEnv": {"FROM_CONTAINER_ENV": "c-${localWorkspaceFolderBasename}"},
  "remoteEnv": {"FROM_REMOTE_ENV": "r1"},
  "forwardPorts": [7000],
  "postCreateCommand": "echo post-create >> /tmp/hooks",
  "postStartCommand": "echo post-start >> /tmp/hooks"
}`,
		".devcontainer/.env": "PROJECT_SUFFIX=" + suffix + "\nGREETING=hello-from-env\n",
		".devcontainer/compose.yaml": `name: pitlane-ct-${PROJECT_SUFFIX}
services:
  app:
    build:
      context: .
      dockerfile: Dockerfile
      target: dev
      args:
        GREETING: ${GREETING}
    command: ["sleep", "infinity"]
    init: true
    volumes:
      - ..:/workspace
    environment:
      FROM_COMPOSE: ${GREETING}
      OVERRIDDEN: first
  db:
    image: pitlane/base:bookworm
    command: ` + dbServer + `
    init: true
    volumes:
      - data:/data
  cache:
    image: pitlane/base:bookworm
    command: ["sleep", "infinity"]
    init: true
volumes:
  data:
`,
		".devcontainer/compose.extra.yaml": `services:
  app:
    environment:
      OVERRIDDEN: second
`,
		".devcontainer/Dockerfile": `FROM pitlane/base:bookworm AS base
RUN echo base > /stage
FROM base AS dev
ARG GREETING
RUN echo "dev-$GREETING" > /stage
FROM base AS prod
RUN echo prod > /stage
`,
		".devcontainer/feat/devcontainer-feature.json": `{"id": "feat", "containerEnv": {"FEAT_ENV": "from-feature"}}`,
		".devcontainer/feat/install.sh":                "#!/bin/sh\nset -e\necho feature-installed > /usr/local/share/feat-marker\n",
		"README.md":                                    "hello\n",
	})
	composeDown(t, d, project)
	name := "compose-" + suffix
	ctx := context.Background()
	ws, err := m.Create(ctx, workspace.CreateOptions{Source: src, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if ws.Compose == nil || ws.Compose.Project != project || ws.Compose.Service != "app" {
		t.Fatalf("create returned Compose info %+v, want project %s, service app", ws.Compose, project)
	}

	t.Run("the workspace service has the config's settings", func(t *testing.T) {
		out, code := execOut(t, m, name, "sh", "-c", `cat /stage /usr/local/share/feat-marker /tmp/hooks README.md; echo "$FROM_COMPOSE $OVERRIDDEN $FROM_CONTAINER_ENV $FROM_REMOTE_ENV $FEAT_ENV"; pwd`)
		if code != 0 {
			t.Fatalf("exec exited %d: %s", code, out)
		}
		want := "dev-hello-from-env\nfeature-installed\npost-create\npost-start\nhello\nhello-from-env second c-" + baseName(src) + " r1 from-feature\n/workspace\n"
		if out != want {
			t.Fatalf("in the workspace:\n%s\nwant:\n%s", out, want)
		}
	})

	t.Run("the workspace reaches another service by its name", func(t *testing.T) {
		var out string
		var code int
		// The server may still be starting.
		for i := 0; i < 50; i++ {
			out, code = execOut(t, m, name, "perl", "-MIO::Socket::INET", "-e", `$s = IO::Socket::INET->new("db:7000") or die "connect: $!\n"; print <$s>`)
			if code == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if code != 0 || out != "pong-from-db\n" {
			t.Fatalf("talking to db:7000: exit %d, %q", code, out)
		}
	})

	t.Run("runServices starts only what it names", func(t *testing.T) {
		got := services(t, d, project)
		if got["app"] != "running" || got["db"] != "running" {
			t.Fatalf("services %v: want app and db running", got)
		}
		if _, ok := got["cache"]; ok {
			t.Fatalf("services %v: cache is not in runServices and was made", got)
		}
	})

	t.Run("list names the other services", func(t *testing.T) {
		all, err := m.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 1 || all[0].Compose == nil {
			t.Fatalf("list: %+v", all)
		}
		c := all[0].Compose
		if len(c.Services) != 1 || c.Services[0].Service != "db" || c.Services[0].State != "running" {
			t.Fatalf("list's Compose services: %+v, want db running", c.Services)
		}
	})

	t.Run("stop stops the project and start brings it back", func(t *testing.T) {
		if _, err := m.Stop(ctx, name); err != nil {
			t.Fatal(err)
		}
		if got := services(t, d, project); got["app"] == "running" || got["db"] == "running" {
			t.Fatalf("after stop: %v", got)
		}
		ws, err := m.Start(ctx, name, workspace.StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ws.State != workspace.StateRunning {
			t.Fatalf("after start: %s", ws.State)
		}
		got := services(t, d, project)
		if got["app"] != "running" || got["db"] != "running" {
			t.Fatalf("after start: %v", got)
		}
		if _, ok := got["cache"]; ok {
			t.Fatalf("after start: %v: cache started", got)
		}
		out, _ := execOut(t, m, name, "cat", "/tmp/hooks")
		if out != "post-create\npost-start\npost-start\n" {
			t.Fatalf("hooks after a restart: %q", out)
		}
	})

	t.Run("rebuild makes the workspace container again, not the others", func(t *testing.T) {
		before := containerIDs(t, d, project)
		if _, code := execOut(t, m, name, "touch", "/tmp/old-container"); code != 0 {
			t.Fatal("touch failed")
		}
		ws, err := m.Rebuild(ctx, name, workspace.RebuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		after := containerIDs(t, d, project)
		if after["db"] != before["db"] {
			t.Fatalf("rebuild replaced db: %v -> %v", before, after)
		}
		if after["app"] == before["app"] || ws.ContainerID != after["app"] {
			t.Fatalf("rebuild kept the app container: %v -> %v (workspace says %s)", before, after, ws.ContainerID)
		}
		out, code := execOut(t, m, name, "sh", "-c", "cat /stage /tmp/hooks; ls /tmp/old-container 2>&1 || true")
		if code != 0 || !strings.HasPrefix(out, "dev-hello-from-env\npost-create\npost-start\n") || !strings.Contains(out, "No such file") {
			t.Fatalf("after rebuild: %q", out)
		}
	})

	t.Run("delete removes containers and networks and keeps volumes", func(t *testing.T) {
		var said []string
		if err := m.Delete(ctx, name, workspace.DeleteOptions{Output: func(s string) { said = append(said, s) }}); err != nil {
			t.Fatal(err)
		}
		if got := services(t, d, project); len(got) != 0 {
			t.Fatalf("after delete: %v", got)
		}
		vols, err := d.ComposeVolumes(ctx, project)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(vols, []string{project + "_data"}) {
			t.Fatalf("volumes after delete: %v, want %s_data kept", vols, project)
		}
		if len(said) != 1 || !strings.Contains(said[0], project+"_data") {
			t.Fatalf("delete said %q, want it to name the kept volume", said)
		}
		if _, err := m.Get(ctx, name); !errors.Is(err, workspace.ErrNotFound) {
			t.Fatalf("get after delete: %v", err)
		}
		if ok, _ := d.ImageExists(ctx, "pitlane-"+name+":latest"); ok {
			t.Fatal("the workspace service's image is still there")
		}
	})
}

func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

func containerIDs(t *testing.T, d *docker.Client, project string) map[string]string {
	t.Helper()
	cs, err := d.ComposeContainers(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range cs {
		out[c.Service] = c.ID
	}
	return out
}

// smallCompose is a project of two image services, with the default
// project name (none in the file, none in the environment).
func smallCompose(shutdown string) map[string]string {
	return map[string]string{
		".devcontainer/devcontainer.json": `{"dockerComposeFile": "compose.yaml", "service": "app", "shutdownAction": "` + shutdown + `",
  "workspaceFolder": "/src", "postCreateCommand": "sleep 0.1"}`,
		".devcontainer/compose.yaml": `services:
  app:
    image: pitlane/base:bookworm
    command: ["sleep", "infinity"]
    init: true
    volumes: ["..:/src"]
    depends_on: [db]
  db:
    image: pitlane/base:bookworm
    command: ["sleep", "infinity"]
    init: true
    volumes: ["data:/data"]
volumes:
  data:
`,
	}
}

// With shutdownAction none, stop leaves the other services running; a
// delete with Volumes removes the project's volumes too.
func TestComposeShutdownNone(t *testing.T) {
	t.Setenv("COMPOSE_PROJECT_NAME", "")
	m, d := newManager(t)
	name := "compose-none-" + testenv.ID()
	project := "pitlane-" + name
	composeDown(t, d, project)
	src := writeFiles(t, smallCompose("none"))
	ctx := context.Background()
	if _, err := m.Create(ctx, workspace.CreateOptions{Source: src, Name: name}); err != nil {
		t.Fatal(err)
	}
	if got := services(t, d, project); got["app"] != "running" || got["db"] != "running" {
		t.Fatalf("after create (project %s): %v", project, got)
	}
	if _, err := m.Stop(ctx, name); err != nil {
		t.Fatal(err)
	}
	if got := services(t, d, project); got["app"] == "running" || got["db"] != "running" {
		t.Fatalf("after stop with shutdownAction none: %v, want app stopped and db running", got)
	}
	if _, err := m.Start(ctx, name, workspace.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := services(t, d, project); got["app"] != "running" {
		t.Fatalf("after start: %v", got)
	}
	if err := m.Delete(ctx, name, workspace.DeleteOptions{Volumes: true}); err != nil {
		t.Fatal(err)
	}
	if vols, _ := d.ComposeVolumes(ctx, project); len(vols) != 0 {
		t.Fatalf("volumes after delete --volumes: %v", vols)
	}
}

// COMPOSE_PROJECT_NAME in the environment names a project whose files
// do not; stopCompose (the default) stops every service.
func TestComposeProjectNameFromEnv(t *testing.T) {
	m, d := newManager(t)
	name := "compose-env-" + testenv.ID()
	project := "pitlane-env-" + testenv.ID()
	t.Setenv("COMPOSE_PROJECT_NAME", project)
	composeDown(t, d, project)
	src := writeFiles(t, smallCompose("stopCompose"))
	ctx := context.Background()
	ws, err := m.Create(ctx, workspace.CreateOptions{Source: src, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if ws.Compose.Project != project {
		t.Fatalf("project %s, want %s from COMPOSE_PROJECT_NAME", ws.Compose.Project, project)
	}
	if _, err := m.Stop(ctx, name); err != nil {
		t.Fatal(err)
	}
	if got := services(t, d, project); got["app"] == "running" || got["db"] == "running" {
		t.Fatalf("after stop: %v", got)
	}
	if err := m.Delete(ctx, name, workspace.DeleteOptions{Volumes: true}); err != nil {
		t.Fatal(err)
	}
}

// Cancelling a create while the project comes up, or while its hooks
// run, leaves no project behind: no containers, networks or volumes.
func TestComposeCreateCancelled(t *testing.T) {
	t.Setenv("COMPOSE_PROJECT_NAME", "")
	m, d := newManager(t)
	files := smallCompose("stopCompose")
	files[".devcontainer/devcontainer.json"] = strings.Replace(files[".devcontainer/devcontainer.json"], `"sleep 0.1"`, `"sleep 60"`, 1)
	src := writeFiles(t, files)
	for _, tc := range []struct {
		name string
		// at reports whether a step or output line is where to cancel.
		at func(line string) bool
	}{
		{"while the project comes up", func(line string) bool { return strings.HasPrefix(line, "Container ") }},
		{"while the hooks run", func(line string) bool { return strings.Contains(line, "postCreateCommand") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "compose-cancel-" + testenv.ID()
			project := "pitlane-" + name
			composeDown(t, d, project)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p := &cancelAt{at: tc.at, cancel: cancel}
			_, err := m.Create(ctx, workspace.CreateOptions{Source: src, Name: name, Progress: p})
			if !errors.Is(err, context.Canceled) || !p.fired {
				t.Fatalf("create: %v, want it cancelled (cancelled: %v)", err, p.fired)
			}
			if got := services(t, d, project); len(got) != 0 {
				t.Fatalf("after a cancelled create: %v", got)
			}
			if vols, _ := d.ComposeVolumes(context.Background(), project); len(vols) != 0 {
				t.Fatalf("volumes after a cancelled create: %v", vols)
			}
			if nets := projectNetworks(t, project); len(nets) != 0 {
				t.Fatalf("networks after a cancelled create: %v", nets)
			}
		})
	}
}

// cancelAt cancels at the first step or output line it is told to.
type cancelAt struct {
	mu     sync.Mutex
	at     func(string) bool
	cancel func()
	fired  bool
}

func (c *cancelAt) Step(s string)   { c.check(s) }
func (c *cancelAt) Output(s string) { c.check(s) }
func (c *cancelAt) check(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fired && c.at(s) {
		c.fired = true
		c.cancel()
	}
}

func projectNetworks(t *testing.T, project string) []string {
	t.Helper()
	out, err := exec.Command("docker", "network", "ls", "-q", "--filter", "label=com.docker.compose.project="+project).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))
}
