package generate

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/internal/detect"
	"github.com/pitlane/pitlane/internal/devcontainer"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGolden generates the config of every corpus project and compares it
// with testdata/NAME.golden (go test -update rewrites them).
func TestGolden(t *testing.T) {
	root := "../../../testdata/detect"
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		t.Run(d.Name(), func(t *testing.T) {
			rep, err := detect.Dir(filepath.Join(root, d.Name()))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Generate(rep, Options{Name: d.Name(), Certs: d.Name() == "go-modproxy"})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := devcontainer.Parse(ConfigFile, []byte(res.Files[ConfigFile]))
			if err != nil {
				t.Fatalf("the generated config does not parse: %v\n%s", err, res.Files[ConfigFile])
			}
			c := Customizations(cfg)
			if c.Detected == nil || c.Test != res.Test {
				t.Errorf("customizations.pitlane: %+v, want the record and test %q", c, res.Test)
			}
			if cfg.Build == nil || cfg.Build.Dockerfile != DockerfileFile {
				t.Errorf("build: %+v", cfg.Build)
			}
			var b strings.Builder
			b.WriteString("summary: " + res.Summary + "\n")
			for _, w := range res.Warnings {
				b.WriteString("warning: " + w + "\n")
			}
			names := make([]string, 0, len(res.Files))
			for n := range res.Files {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				b.WriteString("==> " + n + "\n" + res.Files[n])
			}
			golden := filepath.Join("testdata", d.Name()+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("generated files differ from %s (go test -update rewrites it):\n%s", golden, b.String())
			}
		})
	}
}

func TestEveryChoiceNamesItsFile(t *testing.T) {
	rep, err := detect.Dir("../../../testdata/detect/go-postgres")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Generate(rep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Choices {
		if c.From.File == "" {
			t.Errorf("%s names no file", c.What)
		}
	}
	for _, want := range []string{"go.mod:5 (toolchain go1.24.2)", "Makefile:2 (test:)", ".env.example:2"} {
		if !strings.Contains(res.Files[ConfigFile]+res.Files[DockerfileFile]+res.Files[ServicesFile], want) {
			t.Errorf("no comment names %s", want)
		}
	}
}

func TestRoutes(t *testing.T) {
	v := func(spec string) *detect.Version {
		return &detect.Version{Spec: spec, Evidence: detect.Evidence{File: "f", Line: 1}}
	}
	cases := []struct {
		name      string
		r         route
		installed string
		warn      bool
		run       string // a substring of the Dockerfile lines, if any
	}{
		{"go toolchain", goRoute(v("1.24.2")), "1.24.2", false, "golang.org/toolchain@v0.0.1-go1.24.2.linux-$arch"},
		{"go minor only", goRoute(v("1.22")), "1.22.0", false, "go1.22.0.linux"},
		{"go rc", goRoute(v("1.25rc1")), "1.25rc1", false, "go1.25rc1.linux"},
		{"go 1.20 has no toolchain module", goRoute(v("1.20")), "1.21.0", false, "go1.21.0"},
		{"go from Debian", goRoute(v("1.16")), "1.19", false, ""},
		{"node major", nodeRoute(v("20")), "20", false, `"node-linux-$arch@20" "npm@10"`},
		{"node exact with v", nodeRoute(v("v18.19.1")), "18.19.1", false, "node-linux-$arch@18.19.1"},
		{"node lts name", nodeRoute(v("lts/iron")), "20", false, "@20"},
		{"node open range takes the newest LTS", nodeRoute(v(">=18")), "24", false, "@24"},
		{"node caret range goes to npm", nodeRoute(v("^18.17.0")), "", false, `"node-linux-$arch@^18.17.0" "npm@10"`},
		{"node 16 gets npm 8", nodeRoute(v("16")), "16", false, "npm@8"},
		{"python 3.11 fits", pythonRoute(v("3.11")), "3.11", false, ""},
		{"python range fits", pythonRoute(v(">=3.9,<3.13")), "3.11", false, ""},
		{"python compatible release fits", pythonRoute(v("~=3.10")), "3.11", false, ""},
		{"python 3.12 does not", pythonRoute(v("3.12")), "3.11", true, ""},
		{"python range above", pythonRoute(v(">=3.12")), "3.11", true, ""},
		{"rust older release", rustRoute(v("1.70")), debianRust, false, ""},
		{"rust newer release", rustRoute(v("1.90.0")), debianRust, true, ""},
		{"rust nightly", rustRoute(v("nightly-2024-05-01")), debianRust, true, ""},
		{"java 11", javaRoute(v("11")), "17", false, ""},
		{"java 1.8", javaRoute(v("1.8")), "17", false, ""},
		{"java 21", javaRoute(v("21")), "17", true, ""},
		{"java asdf name", javaRoute(v("temurin-17.0.9+9")), "17", false, ""},
		{"ruby 3.1", rubyRoute(v("3.1.4")), "3.1", false, ""},
		{"ruby 3.3", rubyRoute(v("3.3.0")), "3.1", true, ""},
		{"maven from the wrapper", mavenRoute(detect.Tool{Name: "maven", Version: "3.9.6"}), "3.9.6", false, "org.apache.maven:apache-maven:3.9.6:tar.gz:bin"},
		{"gradle from the wrapper", gradleRoute(detect.Tool{Name: "gradle", Version: "8.5"}), debianGradle, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.r.Installed != tc.installed || tc.r.Warn != tc.warn {
				t.Errorf("installed %q (warn %v), want %q (warn %v); note: %s", tc.r.Installed, tc.r.Warn, tc.installed, tc.warn, tc.r.Note)
			}
			if tc.warn && !strings.Contains(tc.r.Note, "f") {
				t.Errorf("the warning names no file: %s", tc.r.Note)
			}
			if tc.run != "" && !strings.Contains(strings.Join(tc.r.Run, "\n"), tc.run) {
				t.Errorf("Dockerfile lines lack %q:\n%s", tc.run, strings.Join(tc.r.Run, "\n"))
			}
		})
	}
}

func TestNeedsNewer(t *testing.T) {
	cases := []struct {
		lang, spec, installed string
		newer                 bool
	}{
		{detect.Go, "1.25.0", "1.24.2", true},
		{detect.Go, "1.24.1", "1.24.2", false},
		{detect.Go, "1.24", "1.24.2", false},
		{detect.Node, "22", "20", true},
		{detect.Node, "20.11.0", "20", false},
		{detect.Node, "lts/jod", "20", true},
		{detect.Node, ">=18", "20", true}, // the newest LTS in the range is newer
		{detect.Python, ">=3.12", "3.11", true},
		{detect.Python, "^3.10", "3.11", false},
		{detect.Java, "21", "17", true},
		{detect.Java, "1.8", "17", false},
		{detect.Rust, "stable", "1.85.0", false},
	}
	for _, tc := range cases {
		if got, _ := needsNewer(tc.lang, tc.spec, tc.installed); got != tc.newer {
			t.Errorf("needsNewer(%s, %q, %q) = %v, want %v", tc.lang, tc.spec, tc.installed, got, tc.newer)
		}
	}
}
