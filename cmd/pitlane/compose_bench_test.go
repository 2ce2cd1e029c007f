package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/runtime"
	"github.com/pitlane/pitlane/internal/testenv"
	"github.com/pitlane/pitlane/internal/workspace"
)

// composeBenchFiles is a two-service project: the workspace service and
// one beside it, on the default image.
var composeBenchFiles = map[string]string{
	".devcontainer/devcontainer.json": `{"dockerComposeFile": "compose.yaml", "service": "app", "workspaceFolder": "/src"}`,
	".devcontainer/compose.yaml": `services:
  app:
    image: ` + workspace.DefaultImage + `
    command: ["sleep", "infinity"]
    init: true
    volumes: ["..:/src"]
  db:
    image: ` + workspace.DefaultImage + `
    command: ["sleep", "infinity"]
    init: true
`,
}

// BenchmarkComposeCreateToExec measures `pitlane create` of a two-service
// Compose config until the first `pitlane exec NAME -- true` succeeds,
// against the floor measured in the same iterations on a copy of the same
// files: the project brought up through the same Compose library
// (`compose up -d`) plus `docker exec CONTAINER true`. It reports both
// medians and their ratio (target: at most 1.3).
func BenchmarkComposeCreateToExec(b *testing.B) {
	d := testenv.Docker(b)
	bin := testenv.Binary(b)
	root := b.TempDir()
	inst := "bench-" + testenv.ID()
	testenv.RemoveInstance(b, d, inst)
	b.Setenv("HOME", filepath.Join(root, "home"))
	b.Setenv("XDG_DATA_HOME", filepath.Join(root, "data"))
	b.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	b.Setenv("PITLANE_INSTANCE", inst)
	b.Setenv("DO_NOT_TRACK", "1")
	b.Setenv("COMPOSE_PROJECT_NAME", "")
	write := func(dir string) {
		for file, body := range composeBenchFiles {
			p := filepath.Join(dir, file)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(body), 0o644)
		}
	}
	src, floorSrc := filepath.Join(root, "proj"), filepath.Join(root, "floor")
	write(src)
	write(floorSrc)
	run := func(name string, args ...string) {
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	ctx := context.Background()
	var projects []string
	b.Cleanup(func() {
		for _, p := range projects {
			_, _ = d.ComposeDown(context.Background(), p, true, nil)
		}
	})
	floorUp := func(id string) time.Duration {
		project := "bench-floor-" + id
		projects = append(projects, project)
		files := runtime.ComposeFiles{Files: []string{filepath.Join(floorSrc, ".devcontainer", "compose.yaml")}, DefaultName: project}
		t0 := time.Now()
		if err := d.ComposeUp(ctx, runtime.ComposeUp{Files: files}, nil); err != nil {
			b.Fatal(err)
		}
		run("docker", "exec", project+"-app-1", "true")
		return time.Since(t0)
	}
	// Warm up both paths once (page cache, first-create set-up).
	floorUp("warm")
	run(bin, "create", src, "--name", "bench-warm", "-q")
	run(bin, "delete", "--force", "--volumes", "bench-warm")

	testenv.AgainstFloor(b, floorUp, func(id string) time.Duration {
		t0 := time.Now()
		run(bin, "create", src, "--name", "bench-"+id, "-q")
		run(bin, "exec", "bench-"+id, "--", "true")
		return time.Since(t0)
	}, func(id string) {
		if _, err := d.ComposeDown(ctx, "bench-floor-"+id, true, nil); err != nil {
			b.Fatal(err)
		}
		run(bin, "delete", "--force", "--volumes", "bench-"+id)
	})
}
