package detect_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/internal/detect"
)

func writeTree(t *testing.T, files map[string]string) string {
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

func ev(e detect.Evidence) string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return e.File
}

// render writes a report as lines, each finding with its evidence, so a
// test states findings and evidence together.
func render(r *detect.Report) []string {
	var out []string
	for _, s := range r.Stacks {
		l := fmt.Sprintf("%s %s @%s", s.Language, s.Dir, ev(s.Evidence))
		if s.Version != nil {
			l += fmt.Sprintf(" version=%s@%s", s.Version.Spec, ev(s.Version.Evidence))
		}
		for _, tl := range s.Tools {
			l += " tool=" + tl.Name
			if tl.Version != "" {
				l += "@" + tl.Version
			}
			if tl.Lockfile != "" {
				l += "(" + tl.Lockfile + ")"
			}
		}
		if s.Install != nil {
			l += fmt.Sprintf(" install=%q", s.Install.Run)
		}
		if s.Test != nil {
			l += fmt.Sprintf(" test=%q[%s]@%s", s.Test.Run, s.Test.Origin, ev(s.Test.Evidence))
		}
		out = append(out, l)
	}
	for _, s := range r.Services {
		l := fmt.Sprintf("service %s @%s", s.Name, ev(s.Evidence))
		if s.URL != "" {
			l += " " + s.Env + "=" + s.URL
		}
		out = append(out, l)
	}
	for _, p := range r.Ports {
		out = append(out, fmt.Sprintf("port %d @%s", p.Port, ev(p.Evidence)))
	}
	if r.Test != nil {
		out = append(out, fmt.Sprintf("test %q[%s]@%s", r.Test.Run, r.Test.Origin, ev(r.Test.Evidence)))
	}
	return out
}

func TestDir(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "go module with toolchain line",
			files: map[string]string{
				"go.mod": "module example.com/a\n\ngo 1.23.0\n\ntoolchain go1.24.2\n\nrequire github.com/lib/pq v1.10.9\n",
				"go.sum": "",
			},
			want: []string{`go . @go.mod:1 version=1.24.2@go.mod:5 tool=gomod(go.sum) install="go mod download" test="go test ./..."[default]@go.mod:1`},
		},
		{
			name:  "go module without dependencies",
			files: map[string]string{"go.mod": "module example.com/a\n\ngo 1.22\n"},
			want:  []string{`go . @go.mod:1 version=1.22@go.mod:3 tool=gomod test="go test ./..."[default]@go.mod:1`},
		},
		{
			name: "node with npm and .nvmrc",
			files: map[string]string{
				".nvmrc":            "v20.11.0\n",
				"package.json":      `{"scripts": {"test": "jest"}, "devDependencies": {"jest": "29"}}`,
				"package-lock.json": "{}",
			},
			want: []string{`node . @package.json version=v20.11.0@.nvmrc:1 tool=npm(package-lock.json) install="npm ci" test="npm test"[package.json]@package.json:1`},
		},
		{
			name: "node with pnpm from packageManager and engines",
			files: map[string]string{
				"package.json":   "{\n  \"packageManager\": \"pnpm@9.1.0+sha256.abc\",\n  \"engines\": {\"node\": \">=18\"},\n  \"dependencies\": {\"express\": \"4\"},\n  \"scripts\": {\"test\": \"vitest run\"}\n}\n",
				"pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
			},
			want: []string{
				`node . @package.json version=>=18@package.json:3 tool=pnpm@9.1.0(pnpm-lock.yaml) install="pnpm install --frozen-lockfile" test="pnpm test"[package.json]@package.json:5`,
				"port 3000 @package.json",
			},
		},
		{
			name: "node with yarn; npm's placeholder test script is no test",
			files: map[string]string{
				".node-version": "18\n",
				"package.json":  `{"scripts": {"test": "echo \"Error: no test specified\" && exit 1"}, "dependencies": {"vite": "5"}}`,
				"yarn.lock":     "",
			},
			want: []string{
				`node . @package.json version=18@.node-version:1 tool=yarn(yarn.lock) install="yarn install --frozen-lockfile"`,
				"port 5173 @package.json",
			},
		},
		{
			name: "python with pip requirements and pytest",
			files: map[string]string{
				".python-version":      "3.12.1\n",
				"requirements.txt":     "flask==3.0\n",
				"requirements-dev.txt": "pytest\n",
			},
			want: []string{
				`python . @requirements.txt version=3.12.1@.python-version:1 tool=pip install="pip install -r requirements-dev.txt && pip install -r requirements.txt" test="python -m pytest"[default]@requirements.txt`,
				"port 5000 @requirements.txt",
			},
		},
		{
			name: "python with poetry",
			files: map[string]string{
				"pyproject.toml": "[tool.poetry]\nname = \"a\"\n\n[tool.poetry.dependencies]\npython = \"^3.10\"\ndjango = \"5\"\n\n[tool.poetry.group.dev.dependencies]\npytest = \"8\"\n",
				"poetry.lock":    "",
			},
			want: []string{
				`python . @pyproject.toml version=^3.10@pyproject.toml:5 tool=poetry(poetry.lock) install="poetry install --no-interaction" test="poetry run python -m pytest"[default]@pyproject.toml`,
				"port 8000 @pyproject.toml",
			},
		},
		{
			name: "python with uv and tox",
			files: map[string]string{
				"pyproject.toml": "[project]\nname = \"a\"\nrequires-python = \">=3.9\"\n",
				"uv.lock":        "",
				"tox.ini":        "[tox]\nenvlist = py39,py312\n\n[testenv]\ncommands = pytest\n",
			},
			want: []string{`python . @pyproject.toml version=>=3.9@pyproject.toml:3 tool=uv(uv.lock) install="uv sync --all-extras" test="python -m pytest"[tox.ini]@tox.ini:5`},
		},
		{
			name: "python with pipenv and nox",
			files: map[string]string{
				"Pipfile":      "[packages]\nrequests = \"*\"\n\n[requires]\npython_version = \"3.11\"\n",
				"Pipfile.lock": "{}",
				"noxfile.py":   "import nox\n\n@nox.session\ndef tests(session):\n    session.run(\"coverage\")\n",
			},
			want: []string{`python . @Pipfile version=3.11@Pipfile:5 tool=pipenv(Pipfile.lock) install="pipenv install --dev --system" test="nox"[noxfile.py]@noxfile.py:3`},
		},
		{
			name: "rust with rust-toolchain.toml",
			files: map[string]string{
				"Cargo.toml":          "[package]\nname = \"a\"\nrust-version = \"1.70\"\n\n[dependencies]\nserde = \"1\"\n",
				"Cargo.lock":          "",
				"rust-toolchain.toml": "[toolchain]\nchannel = \"1.80.0\"\n",
			},
			want: []string{`rust . @Cargo.toml version=1.80.0@rust-toolchain.toml:2 tool=cargo(Cargo.lock) install="cargo fetch" test="cargo test"[default]@Cargo.toml`},
		},
		{
			name:  "rust with rust-version only",
			files: map[string]string{"Cargo.toml": "[package]\nname = \"a\"\nrust-version = \"1.70\"\n"},
			want:  []string{`rust . @Cargo.toml version=1.70@Cargo.toml:3 tool=cargo test="cargo test"[default]@Cargo.toml`},
		},
		{
			name: "java maven with wrapper and Spring",
			files: map[string]string{
				"pom.xml": "<project>\n  <parent><artifactId>spring-boot-starter-parent</artifactId></parent>\n  <properties>\n    <java.version>21</java.version>\n  </properties>\n" +
					"  <dependencies><dependency><groupId>junit</groupId><artifactId>junit</artifactId></dependency></dependencies>\n</project>\n",
				"mvnw":                                  "#!/bin/sh\n",
				".mvn/wrapper/maven-wrapper.properties": "distributionUrl=https://example.invalid/apache-maven-3.9.6-bin.zip\n",
			},
			want: []string{
				`java . @pom.xml version=21@pom.xml:4 tool=maven@3.9.6 install="./mvnw -B -q dependency:resolve" test="./mvnw -B test"[default]@pom.xml`,
				"port 8080 @pom.xml",
			},
		},
		{
			name: "java maven compiler plugin release",
			files: map[string]string{
				"pom.xml": "<project>\n<build><plugins><plugin>\n<artifactId>maven-compiler-plugin</artifactId>\n<configuration><release>11</release></configuration>\n</plugin></plugins></build>\n</project>\n",
			},
			want: []string{`java . @pom.xml version=11@pom.xml:4 tool=maven test="mvn -B test"[default]@pom.xml`},
		},
		{
			name: "java gradle kotlin DSL with toolchain and wrapper",
			files: map[string]string{
				"build.gradle.kts":                         "plugins { java }\njava {\n  toolchain {\n    languageVersion = JavaLanguageVersion.of(17)\n  }\n}\n",
				"gradle/wrapper/gradle-wrapper.properties": "distributionUrl=https\\://example.invalid/gradle-8.5-bin.zip\n",
				"gradlew": "#!/bin/sh\n",
			},
			want: []string{`java . @build.gradle.kts version=17@build.gradle.kts:4 tool=gradle@8.5 test="gradle test --no-daemon"[default]@build.gradle.kts`},
		},
		{
			name: "ruby with bundler and rspec",
			files: map[string]string{
				".ruby-version": "ruby-3.2.2\n",
				"Gemfile":       "source \"https://rubygems.org\"\nruby \"3.2.2\"\ngem \"rails\"\ngem \"rspec\"\n",
				"Gemfile.lock":  "",
			},
			want: []string{
				`ruby . @Gemfile version=3.2.2@.ruby-version:1 tool=bundler(Gemfile.lock) install="bundle install" test="bundle exec rspec"[default]@Gemfile`,
				"port 3000 @Gemfile",
			},
		},
		{
			name: "ruby version from the Gemfile",
			files: map[string]string{
				"Gemfile": "source \"https://rubygems.org\"\nruby '3.1.4'\n",
			},
			want: []string{`ruby . @Gemfile version=3.1.4@Gemfile:2 tool=bundler install="bundle install" test="bundle exec rake test"[default]@Gemfile`},
		},
		{
			name: "monorepo: Go API, Node web with a workspace package, services and a Makefile",
			files: map[string]string{
				"go.mod":                       "module example.com/api\n\ngo 1.24.0\n",
				"Makefile":                     "build:\n\tgo build ./...\n\ntest: build\n\tgo test ./...\n",
				"web/package.json":             `{"workspaces": ["packages/*"], "scripts": {"test": "npm test --workspaces"}}`,
				"web/package-lock.json":        "{}",
				"web/packages/ui/package.json": `{"scripts": {"test": "node --test"}}`,
				"compose.yaml":                 "services:\n  app:\n    build: .\n    ports:\n      - \"8080:8080\"\n  db:\n    image: postgres:16\n  cache:\n    image: redis:7-alpine\n",
				".env.example":                 "DATABASE_URL=postgres://u:p@localhost/app\n",
				"Dockerfile":                   "FROM scratch\nEXPOSE 9090/tcp\n",
			},
			want: []string{
				`go . @go.mod:1 version=1.24.0@go.mod:3 tool=gomod test="go test ./..."[default]@go.mod:1`,
				`node web @web/package.json tool=npm(web/package-lock.json) test="npm test"[package.json]@web/package.json:1`,
				"service redis @compose.yaml:9",
				"service postgres @compose.yaml:7 DATABASE_URL=postgres://u:p@localhost/app",
				"port 8080 @compose.yaml:5",
				"port 9090 @Dockerfile:2",
				`test "make test"[Makefile]@Makefile:4`,
			},
		},
		{
			name: "tool-versions and CI workflow",
			files: map[string]string{
				".tool-versions": "nodejs 20.11.1\npython 3.12.2\n",
				"package.json":   `{"name": "a"}`,
				"setup.py":       "from setuptools import setup\nsetup()\n",
				".github/workflows/ci.yml": "jobs:\n  test:\n    steps:\n      - uses: actions/setup-go@v5\n        with:\n          go-version: '1.20'\n" +
					"      - run: |\n          pip install -e .\n          python -m pytest -q\n",
			},
			want: []string{
				`node . @package.json version=20.11.1@.tool-versions:1 tool=npm`,
				`python . @setup.py version=3.12.2@.tool-versions:2 tool=pip install="pip install -e ." test="python -m pytest -q"[CI workflow]@.github/workflows/ci.yml:9`,
			},
		},
		{
			name: "CI sets the version a stack does not name",
			files: map[string]string{
				"requirements.txt":            "requests\n",
				".github/workflows/test.yaml": "jobs:\n  t:\n    steps:\n      - uses: actions/setup-python@v5\n        with:\n          python-version: 3.10\n",
			},
			want: []string{`python . @requirements.txt version=3.10@.github/workflows/test.yaml:6 tool=pip install="pip install -r requirements.txt" test="python -m unittest discover"[default]@requirements.txt`},
		},
		{
			name: "testcontainers need a Docker engine; env URLs name services",
			files: map[string]string{
				"go.mod":       "module example.com/a\n\ngo 1.24.0\n\nrequire github.com/testcontainers/testcontainers-go v0.30.0\n",
				".env.example": "# local\nexport REDIS_URL=\"redis://localhost:6379/0\"\nMONGO_URL=mongodb://localhost/db\n",
			},
			want: []string{
				`go . @go.mod:1 version=1.24.0@go.mod:3 tool=gomod install="go mod download" test="go test ./..."[default]@go.mod:1`,
				"service redis @.env.example:2 REDIS_URL=redis://localhost:6379/0",
				"service mongodb @.env.example:3 MONGO_URL=mongodb://localhost/db",
				"service docker @go.mod",
			},
		},
		{
			name: "npm workspaces cover their packages",
			files: map[string]string{
				"package.json":             `{"workspaces": ["packages/*"], "devDependencies": {"typescript": "5"}}`,
				"package-lock.json":        "{}",
				"packages/ui/package.json": `{"name": "ui"}`,
			},
			want: []string{`node . @package.json tool=npm(package-lock.json) install="npm ci"`},
		},
		{
			name:  "no stack at all",
			files: map[string]string{"README.md": "# notes\n", "docs/index.md": "hi\n"},
			want:  nil,
		},
		{
			name: "projects below skipped folders do not count",
			files: map[string]string{
				"node_modules/x/package.json": "{}",
				"examples/demo/go.mod":        "module demo\n\ngo 1.21\n",
				"a/b/c/go.mod":                "module deep\n\ngo 1.21\n",
			},
			want: nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := detect.Dir(writeTree(t, tc.files))
			if err != nil {
				t.Fatal(err)
			}
			got := render(r)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if len(tc.want) == 0 && !r.Empty() {
				t.Errorf("Empty() is false for a tree with nothing")
			}
		})
	}
}

func TestTestCommand(t *testing.T) {
	r, err := detect.Dir(writeTree(t, map[string]string{
		"go.mod":           "module a\n\ngo 1.22\n",
		"web/package.json": `{"scripts": {"test": "node --test"}}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	run, ev, ok := r.TestCommand()
	if !ok || run != "go test ./... && (cd web && npm test)" || len(ev) != 2 || ev[1].File != "web/package.json" {
		t.Errorf("TestCommand() = %q, %v, %v", run, ev, ok)
	}
}

func TestDirErrors(t *testing.T) {
	if _, err := detect.Dir(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing folder is not an error")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := detect.Dir(f); err == nil {
		t.Error("a file is not an error")
	}
}

// FuzzDir feeds arbitrary manifests to the detector: it must never panic.
func FuzzDir(f *testing.F) {
	f.Add("go.mod", "module a\n\ngo 1.22\n")
	f.Add("package.json", `{"engines": {"node": ">=18"}}`)
	f.Add("pyproject.toml", "[project]\nrequires-python = \">=3.9\"\n")
	f.Add("pom.xml", "<project><properties><java.version>17</java.version></properties></project>")
	f.Add("compose.yaml", "services:\n  db:\n    image: postgres\n")
	f.Fuzz(func(t *testing.T, name, body string) {
		if name == "" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
			return
		}
		root := t.TempDir()
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			return
		}
		if _, err := detect.Dir(root); err != nil {
			t.Fatal(err)
		}
	})
}
