package devcontainer

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestFind(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  []string
	}{
		{"none", nil, nil},
		{"folder form", []string{".devcontainer/devcontainer.json"}, []string{".devcontainer/devcontainer.json"}},
		{"root form", []string{".devcontainer.json"}, []string{".devcontainer.json"}},
		{"folder form first", []string{".devcontainer.json", ".devcontainer/devcontainer.json"},
			[]string{".devcontainer/devcontainer.json", ".devcontainer.json"}},
		{"sub folders sorted", []string{".devcontainer/go/devcontainer.json", ".devcontainer/api/devcontainer.json"},
			[]string{".devcontainer/api/devcontainer.json", ".devcontainer/go/devcontainer.json"}},
		{"other files ignored", []string{".devcontainer/Dockerfile", "devcontainer.json"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range tc.files {
				p := filepath.Join(root, f)
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.WriteFile(p, []byte("{}"), 0o644)
			}
			got, err := Find(root)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Find = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	cfg, err := Parse("x.json", []byte(`// comment
{
  /* block */ "image": "img",
  "containerEnv": {"A": "1",},
  "postCreateCommand": ["echo", "hi"],
  "postStartCommand": "echo start",
  "overrideCommand": false,
}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Image != "img" || cfg.ContainerEnv["A"] != "1" {
		t.Errorf("cfg = %+v", cfg)
	}
	if got := cfg.PostCreateCommand.Argv(); !reflect.DeepEqual(got, []string{"echo", "hi"}) {
		t.Errorf("array command argv = %q", got)
	}
	if got := cfg.PostStartCommand.Argv(); !reflect.DeepEqual(got, []string{"/bin/sh", "-c", "echo start"}) {
		t.Errorf("string command argv = %q", got)
	}
	if cfg.OverrideCommand == nil || *cfg.OverrideCommand {
		t.Errorf("overrideCommand = %v", cfg.OverrideCommand)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line, col int
	}{
		{"missing comma", "{\n  \"image\": \"a\"\n  \"name\": \"b\"\n}", 3, 3},
		{"unclosed", "{\n  \"image\": \"a\",\n", 3, 1},
		{"wrong type", "{\n  \"image\": 42\n}", 2, 14},
		{"wrong command type", "{\n  \"postCreateCommand\": {\"a\": 1}\n}", 1, 1},
		{"not an object", "[1, 2]", 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("dc.json", []byte(tc.src))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SyntaxError", err)
			}
			if se.File != "dc.json" || se.Line != tc.line || (tc.col != 0 && se.Column != tc.col) {
				t.Errorf("error at %s:%d:%d (%s), want line %d column %d", se.File, se.Line, se.Column, se.Msg, tc.line, tc.col)
			}
		})
	}
}

func TestSubstitute(t *testing.T) {
	v := Vars{
		LocalWorkspaceFolder:     "/home/u/src/app",
		ContainerWorkspaceFolder: "/workspaces/app",
		DevcontainerID:           "abc",
		LookupEnv: func(k string) (string, bool) {
			if k == "HOME" {
				return "/home/u", true
			}
			return "", false
		},
	}
	tests := []struct{ in, want string }{
		{"${localEnv:HOME}/x", "/home/u/x"},
		{"${env:HOME}", "/home/u"},
		{"${localEnv:NOPE}", ""},
		{"${localEnv:NOPE:fallback}", "fallback"},
		{"${localWorkspaceFolder}", "/home/u/src/app"},
		{"${localWorkspaceFolderBasename}", "app"},
		{"${containerWorkspaceFolder}/bin", "/workspaces/app/bin"},
		{"${containerWorkspaceFolderBasename}", "app"},
		{"id-${devcontainerId}", "id-abc"},
		{"${containerEnv:PATH}", "${containerEnv:PATH}"},
		{"${unknown}", "${unknown}"},
		{"plain", "plain"},
	}
	for _, tc := range tests {
		if got := v.Substitute(tc.in); got != tc.want {
			t.Errorf("Substitute(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBuildSpec(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want *BuildSpec
	}{
		{"image", Config{Image: "x"}, nil},
		{"dockerfile beside config", Config{Build: &Build{Dockerfile: "Dockerfile"}},
			&BuildSpec{Context: "/r/.devcontainer", Dockerfile: "Dockerfile"}},
		{"context is parent", Config{Build: &Build{Dockerfile: "Dockerfile", Context: "..", Target: "dev"}},
			&BuildSpec{Context: "/r", Dockerfile: ".devcontainer/Dockerfile", Target: "dev"}},
		{"dockerfile outside context", Config{Build: &Build{Dockerfile: "../docker/Dockerfile", Context: "."}},
			&BuildSpec{Context: "/r/.devcontainer", Dockerfile: "/r/docker/Dockerfile"}},
		{"legacy top-level", Config{DockerFile: "Dockerfile", Context: ".."},
			&BuildSpec{Context: "/r", Dockerfile: ".devcontainer/Dockerfile"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cfg.BuildSpec("/r/.devcontainer")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("BuildSpec = %+v, want %+v", got, tc.want)
			}
		})
	}
	if _, err := (&Config{}).BuildSpec("/r"); err == nil {
		t.Error("a config without image or build gave no error")
	}
}

func TestDefaultsAndPorts(t *testing.T) {
	if got := DefaultWorkspaceFolder("/home/u/src/my-app"); got != "/workspaces/my-app" {
		t.Errorf("DefaultWorkspaceFolder = %q", got)
	}
	cfg, err := Parse("x", []byte(`{"image":"i","forwardPorts":[3000,"localhost:8080","db:5432"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Ports(); !reflect.DeepEqual(got, []int{3000, 8080, 5432}) {
		t.Errorf("Ports = %v", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{}`, `{"image":"a"}`, "// c\n{\"a\":[1,2,],}", `{"postCreateCommand":["a"]}`, `{`, `[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse("f.json", b)
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
		var se *SyntaxError
		if err != nil && errors.As(err, &se) && (se.Line < 1 || se.Column < 1) {
			t.Fatalf("bad position %d:%d", se.Line, se.Column)
		}
	})
}
