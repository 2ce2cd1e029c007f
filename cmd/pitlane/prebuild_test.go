package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/internal/testenv"
)

type prebuildJSON struct {
	Key, Image, Pushed string
	Baked              []string
	Reused             bool
}

type imageJSON struct {
	Key    string
	Tags   []string
	Baked  []string
	UsedBy []string
}

func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "proj")
	for name, body := range files {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

func (c *cli) mustRun(args ...string) (string, string) {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("pitlane %s exited %d\n%s\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out, errOut
}

func (c *cli) images() []imageJSON {
	c.t.Helper()
	out, _ := c.mustRun("images", "--json")
	var imgs []imageJSON
	if err := json.Unmarshal([]byte(out), &imgs); err != nil {
		c.t.Fatalf("images --json: %v\n%s", err, out)
	}
	return imgs
}

// TestCLIPrebuildThenCreate: a prebuilt image's baked setup phases are not
// run again by create, the rest are, and what they made in the workspace
// folder reaches the new workspace's folder.
func TestCLIPrebuildThenCreate(t *testing.T) {
	c := newCLI(t)
	src := writeProject(t, map[string]string{
		".devcontainer/devcontainer.json": `{
			"build": {"dockerfile": "Dockerfile"},
			"remoteUser": "dev",
			"onCreateCommand": "echo on-create >> $HOME/hooks.log; mkdir -p gen && echo generated > gen/file",
			"updateContentCommand": "echo update-content >> $HOME/hooks.log",
			"postCreateCommand": "echo post-create >> $HOME/hooks.log",
			"postStartCommand": "echo post-start >> $HOME/hooks.log"
		}`,
		".devcontainer/Dockerfile": "FROM pitlane/base:bookworm\nRUN useradd -m dev && echo " + testenv.ID() + "\n",
		"README":                   "hello\n",
	})
	out, _ := c.mustRun("prebuild", src, "--json", "-q")
	var pb prebuildJSON
	if err := json.Unmarshal([]byte(out), &pb); err != nil {
		t.Fatalf("prebuild --json: %v\n%s", err, out)
	}
	if len(pb.Key) != 64 || !strings.HasSuffix(pb.Image, ":"+pb.Key) || strings.Join(pb.Baked, ",") != "onCreateCommand,updateContentCommand" {
		t.Fatalf("prebuild = %+v", pb)
	}
	if _, err := os.Stat(filepath.Join(src, "gen")); err == nil {
		t.Fatal("the prebuild wrote into the source folder")
	}

	name := "pb-" + testenv.ID()
	_, errOut := c.mustRun("create", src, "--name", name)
	if !strings.Contains(errOut, "Using prebuilt image "+pb.Key[:12]+" (built ") {
		t.Errorf("create did not say it used the prebuilt image:\n%s", errOut)
	}
	if strings.Contains(errOut, "Building image") || strings.Contains(errOut, "Running onCreateCommand") {
		t.Errorf("create built or ran a baked phase:\n%s", errOut)
	}
	log, _ := c.mustRun("exec", name, "--", "cat", "/home/dev/hooks.log")
	if log != "on-create\nupdate-content\npost-create\npost-start\n" {
		t.Errorf("hooks.log = %q: the baked phases once (in the image), then the rest", log)
	}
	if b, err := os.ReadFile(filepath.Join(src, "gen", "file")); err != nil || string(b) != "generated\n" {
		t.Errorf("what onCreateCommand made in the workspace folder: %q, %v", b, err)
	}
	if who, _ := c.mustRun("exec", name, "--", "stat", "-c", "%U", "gen/file"); who != "dev\n" {
		t.Errorf("gen/file belongs to %q, want the remote user", who)
	}

	imgs := c.images()
	if len(imgs) != 1 || imgs[0].Key != pb.Key || strings.Join(imgs[0].UsedBy, ",") != name {
		t.Fatalf("images = %+v", imgs)
	}
	if out, _ := c.mustRun("images", "prune", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("prune removed an image in use: %s", out)
	}
	c.mustRun("delete", "--force", name)
	if out, _ := c.mustRun("images", "prune", "--json"); !strings.Contains(out, pb.Key) {
		t.Errorf("prune after delete: %s", out)
	}
	if imgs := c.images(); len(imgs) != 0 {
		t.Errorf("images after prune: %+v", imgs)
	}
}

// TestCLIPrebuildPushPull pushes a prebuilt image to a loopback registry,
// removes it here, and creates from the registry, with and without the
// registry asking for credentials (taken from Docker's config.json).
func TestCLIPrebuildPushPull(t *testing.T) {
	for _, auth := range []bool{false, true} {
		name := "anonymous"
		if auth {
			name = "htpasswd"
		}
		t.Run(name, func(t *testing.T) {
			c := newCLI(t)
			reg := testenv.StartRegistry(t, auth)
			tiny := testenv.TinyImage(t, testenv.Docker(t), os.Getenv("PITLANE_INSTANCE"))
			src := writeProject(t, map[string]string{
				"Dockerfile":         "FROM " + tiny + "\nRUN echo " + testenv.ID() + " > /id\n",
				".devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}, "onCreateCommand": "echo baked >> /root/hooks.log", "postCreateCommand": "echo post-create >> /root/hooks.log"}`,
				"app/main.txt":       "hello\n",
			})
			repo := reg.Addr + "/team/app"
			noCreds := func() { (&testenv.Registry{Addr: reg.Addr}).DockerConfig(t) }
			if auth {
				// Without credentials the push is refused.
				noCreds()
				if _, errOut, code := c.run("prebuild", src, "--push", repo, "-q"); code == 0 || !strings.Contains(errOut, "unauthorized") && !strings.Contains(errOut, "authentication required") && !strings.Contains(errOut, "no basic auth") {
					t.Fatalf("push without credentials: exit %d\n%s", code, errOut)
				}
			}
			reg.DockerConfig(t)
			out, _ := c.mustRun("prebuild", src, "--push", repo, "--json", "-q")
			var pb prebuildJSON
			json.Unmarshal([]byte(out), &pb)
			if pb.Pushed != repo+":"+pb.Key {
				t.Fatalf("prebuild = %+v", pb)
			}
			// This machine forgets the image.
			c.mustRun("images", "prune")
			if imgs := c.images(); len(imgs) != 0 {
				t.Fatalf("images after prune: %+v", imgs)
			}
			if auth {
				// No credentials: the pull fails and create builds here.
				noCreds()
				ws := "nocred-" + testenv.ID()
				_, errOut := c.mustRun("create", src, "--name", ws, "--cache-from", repo)
				if !strings.Contains(errOut, "building it here") || !strings.Contains(errOut, "Running onCreateCommand") {
					t.Errorf("create without credentials:\n%s", errOut)
				}
				c.mustRun("delete", "--force", ws)
				c.mustRun("images", "prune")
				reg.DockerConfig(t)
			}
			ws := "pulled-" + testenv.ID()
			_, errOut := c.mustRun("create", src, "--name", ws, "--cache-from", repo)
			for _, want := range []string{"Looking for a prebuilt image in " + repo, "Using prebuilt image " + pb.Key[:12]} {
				if !strings.Contains(errOut, want) {
					t.Errorf("create's progress lacks %q:\n%s", want, errOut)
				}
			}
			if strings.Contains(errOut, "Building image") {
				t.Errorf("create built although the registry had the image:\n%s", errOut)
			}
			if log, _ := c.mustRun("exec", ws, "--", "cat", "/root/hooks.log"); log != "baked\npost-create\n" {
				t.Errorf("hooks.log = %q", log)
			}
			// The repository is remembered for the source.
			c.mustRun("delete", "--force", ws)
			c.mustRun("images", "prune")
			ws = "again-" + testenv.ID()
			if _, errOut := c.mustRun("create", src, "--name", ws); !strings.Contains(errOut, "Looking for a prebuilt image in "+repo) {
				t.Errorf("the saved --cache-from was not used:\n%s", errOut)
			}
		})
	}
}
