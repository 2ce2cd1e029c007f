package devcontainer

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestComposeSpec(t *testing.T) {
	dir := filepath.FromSlash("/src/.devcontainer")
	for _, tc := range []struct {
		name, json string
		files      []string
		run        []string
		stop       bool
		err        string
	}{
		{name: "one file as a string", json: `{"dockerComposeFile": "compose.yaml", "service": "app"}`,
			files: []string{"/src/.devcontainer/compose.yaml"}, stop: true},
		{name: "several files, relative and absolute", json: `{"dockerComposeFile": ["../compose.yaml", "/etc/extra.yaml"], "service": "app", "runServices": ["db"], "shutdownAction": "stopCompose"}`,
			files: []string{"/src/compose.yaml", "/etc/extra.yaml"}, run: []string{"db"}, stop: true},
		{name: "shutdownAction none", json: `{"dockerComposeFile": "c.yml", "service": "app", "shutdownAction": "none"}`,
			files: []string{"/src/.devcontainer/c.yml"}},
		{name: "no service", json: `{"dockerComposeFile": "c.yml"}`, err: `set "service"`},
		{name: "stopContainer", json: `{"dockerComposeFile": "c.yml", "service": "app", "shutdownAction": "stopContainer"}`, err: `use "stopCompose"`},
		{name: "an image too", json: `{"dockerComposeFile": "c.yml", "service": "app", "image": "x"}`, err: "remove image and build"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("devcontainer.json", []byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if !cfg.IsCompose() {
				t.Fatal("not seen as a Compose config")
			}
			spec, err := cfg.ComposeSpec(dir)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, f := range tc.files {
				want = append(want, filepath.FromSlash(f))
			}
			if !slices.Equal(spec.Files, want) || !slices.Equal(spec.RunServices, tc.run) || spec.StopCompose != tc.stop || spec.Service != "app" {
				t.Fatalf("spec = %+v", spec)
			}
		})
	}
}

func TestComposeFileOfTheWrongShape(t *testing.T) {
	_, err := Parse("dc.json", []byte("{\n  \"service\": \"app\",\n  \"dockerComposeFile\": 7\n}"))
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *SyntaxError", err)
	}
	if se.Line != 3 || se.Column != 24 || !strings.Contains(se.Msg, "dockerComposeFile") {
		t.Fatalf("err = %v, want dc.json:3:24 naming dockerComposeFile", err)
	}
}

func TestNotACompose(t *testing.T) {
	cfg, err := Parse("dc.json", []byte(`{"image": "x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if spec, err := cfg.ComposeSpec("/"); cfg.IsCompose() || spec != nil || err != nil {
		t.Fatalf("an image config: %v %v %v", cfg.IsCompose(), spec, err)
	}
}
