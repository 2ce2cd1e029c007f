package docker

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeCompose(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const twoServices = `services:
  app:
    image: base
  db:
    image: base
`

// The project name: the files' name:, else COMPOSE_PROJECT_NAME from the
// environment, else from the .env beside the first file, else the
// default.
func TestComposeProjectName(t *testing.T) {
	for _, tc := range []struct {
		name, env string
		files     map[string]string
		want      string
	}{
		{name: "default", files: map[string]string{"c.yaml": twoServices}, want: "pitlane-ws"},
		{name: "from .env", files: map[string]string{"c.yaml": twoServices, ".env": "COMPOSE_PROJECT_NAME=from-dotenv\n"}, want: "from-dotenv"},
		{name: "environment over .env", env: "from-env", files: map[string]string{"c.yaml": twoServices, ".env": "COMPOSE_PROJECT_NAME=from-dotenv\n"}, want: "from-env"},
		{name: "name: over both", env: "from-env", files: map[string]string{"c.yaml": "name: from-${WHERE}\n" + twoServices, ".env": "COMPOSE_PROJECT_NAME=from-dotenv\nWHERE=file\n"}, want: "from-file"},
		{name: "name: in a later file", files: map[string]string{"c.yaml": twoServices, "d.yaml": "name: later\n"}, want: "later"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("COMPOSE_PROJECT_NAME", tc.env)
			dir := writeCompose(t, tc.files)
			files := []string{filepath.Join(dir, "c.yaml")}
			if _, ok := tc.files["d.yaml"]; ok {
				files = append(files, filepath.Join(dir, "d.yaml"))
			}
			p, err := (&Client{}).LoadCompose(context.Background(), ComposeFiles{Files: files, DefaultName: "pitlane-ws"})
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tc.want {
				t.Fatalf("project name %q, want %q", p.Name, tc.want)
			}
		})
	}
}

func TestLoadCompose(t *testing.T) {
	t.Setenv("COMPOSE_PROJECT_NAME", "")
	t.Setenv("FROM_ENV", "env-wins")
	dir := writeCompose(t, map[string]string{
		".devcontainer/compose.yaml": `services:
  app:
    build:
      context: ..
      dockerfile: .devcontainer/Dockerfile
      target: ${TARGET}
      args:
        A: ${ARG_A}
    volumes:
      - ..:/workspace
      - /var/run/docker.sock:/var/run/docker.sock
      - data:/data
    depends_on: [db]
    privileged: true
    cap_add: [SYS_PTRACE]
    devices: ["/dev/fuse:/dev/fuse:rwm"]
  db:
    image: postgres:${PG}
    network_mode: host
    pid: host
volumes:
  data:
  ext:
    external: true
`,
		".devcontainer/override.yaml": "services:\n  db:\n    image: override:${FROM_ENV}\n",
		".devcontainer/.env":          "TARGET=dev\nARG_A=from-dotenv\nPG=16\nFROM_ENV=dotenv-loses\n",
	})
	dc := filepath.Join(dir, ".devcontainer")
	p, err := (&Client{}).LoadCompose(context.Background(), ComposeFiles{Files: []string{filepath.Join(dc, "compose.yaml"), filepath.Join(dc, "override.yaml")}, DefaultName: "ws"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "ws" || p.Dir != dc || !slices.Equal(p.Volumes, []string{"ws_data"}) {
		t.Fatalf("project %q in %q with volumes %v", p.Name, p.Dir, p.Volumes)
	}
	app, db := p.Service("app"), p.Service("db")
	if app == nil || db == nil {
		t.Fatalf("services %+v", p.Services)
	}
	if app.Image != "ws-app" || app.Build == nil || app.Build.Context != dir || app.Build.Dockerfile != ".devcontainer/Dockerfile" ||
		app.Build.Target != "dev" || app.Build.Args["A"] != "from-dotenv" || app.Build.Tag != "ws-app" {
		t.Errorf("app: %+v, build %+v", app, app.Build)
	}
	if !slices.Equal(app.DependsOn, []string{"db"}) || !app.Privileged || !slices.Equal(app.CapAdd, []string{"SYS_PTRACE"}) || !slices.Equal(app.Devices, []string{"/dev/fuse:/dev/fuse:rwm"}) {
		t.Errorf("app's host access: %+v", app)
	}
	var binds []string
	for _, b := range app.Binds {
		binds = append(binds, b.Source+":"+b.Target)
	}
	if !slices.Equal(binds, []string{dir + ":/workspace", "/var/run/docker.sock:/var/run/docker.sock"}) {
		t.Errorf("app's binds: %v", binds)
	}
	if db.Image != "override:env-wins" || db.NetworkMode != "host" || db.Pid != "host" || db.Build != nil {
		t.Errorf("db: %+v", db)
	}
}

func TestLoadComposeBuildKitOnly(t *testing.T) {
	dir := writeCompose(t, map[string]string{"c.yaml": `services:
  app:
    build:
      context: .
      ssh: [default]
      platforms: [linux/arm64]
  db:
    build: .
`})
	p, err := (&Client{}).LoadCompose(context.Background(), ComposeFiles{Files: []string{filepath.Join(dir, "c.yaml")}, DefaultName: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Service("app").BuildProblem; !strings.Contains(got, "service app: build.ssh, build.platforms need BuildKit") {
		t.Errorf("app's build problem: %q", got)
	}
	if got := p.Service("db").BuildProblem; got != "" {
		t.Errorf("db's build problem: %q", got)
	}
}

func TestLoadComposeErrors(t *testing.T) {
	dir := writeCompose(t, map[string]string{"bad.yaml": "services:\n  app:\n    image: [1\n", "inline.yaml": "services:\n  app:\n    build:\n      dockerfile_inline: FROM x\n"})
	for _, tc := range []struct{ file, want string }{
		{"missing.yaml", "missing.yaml cannot be read"},
		{"bad.yaml", "bad.yaml"},
		{"inline.yaml", "dockerfile_inline is not supported"},
	} {
		_, err := (&Client{}).LoadCompose(context.Background(), ComposeFiles{Files: []string{filepath.Join(dir, tc.file)}, DefaultName: "x"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one saying %q", tc.file, err, tc.want)
		}
	}
}
