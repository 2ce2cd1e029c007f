package detect

import (
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// pyproject is the part of pyproject.toml the detector reads.
type pyproject struct {
	Project struct {
		RequiresPython       string              `toml:"requires-python"`
		Dependencies         []string            `toml:"dependencies"`
		OptionalDependencies map[string][]string `toml:"optional-dependencies"`
	} `toml:"project"`
	DependencyGroups map[string][]any `toml:"dependency-groups"`
	Tool             struct {
		Poetry *struct {
			Dependencies    map[string]any `toml:"dependencies"`
			DevDependencies map[string]any `toml:"dev-dependencies"`
			Group           map[string]struct {
				Dependencies map[string]any `toml:"dependencies"`
			} `toml:"group"`
		} `toml:"poetry"`
		UV     map[string]any `toml:"uv"`
		Pytest map[string]any `toml:"pytest"`
		PDM    map[string]any `toml:"pdm"`
	} `toml:"tool"`
	BuildSystem struct {
		BuildBackend string `toml:"build-backend"`
	} `toml:"build-system"`
}

var reqName = regexp.MustCompile(`^\s*([A-Za-z0-9][A-Za-z0-9._-]*)`)

// detectPython finds a Python project: pyproject.toml, setup.py,
// setup.cfg, requirements*.txt or a Pipfile; its version from
// .python-version, requires-python or the Pipfile; its tool from the lock
// file.
func detectPython(t *tree, dir string) *Stack {
	var manifest string
	for _, f := range []string{"pyproject.toml", "Pipfile", "setup.py", "setup.cfg", "requirements.txt"} {
		if t.exists(join(dir, f)) {
			manifest = join(dir, f)
			break
		}
	}
	reqs := t.glob(dir, "requirements*.txt")
	if manifest == "" && len(reqs) > 0 {
		manifest = reqs[0]
	}
	if manifest == "" {
		return nil
	}
	s := &Stack{Language: Python, Dir: dir, Evidence: Evidence{File: manifest}}
	var pp pyproject
	ppRel := join(dir, "pyproject.toml")
	ppData, hasPP := t.read(ppRel)
	if hasPP {
		_, _ = toml.Decode(string(ppData), &pp)
	}
	if v := versionFileUp(t, dir, ".python-version"); v != nil {
		s.Version = v
	} else if pp.Project.RequiresPython != "" {
		s.Version = &Version{Spec: pp.Project.RequiresPython, Evidence: find(ppRel, ppData, "requires-python")}
	} else if pp.Tool.Poetry != nil && pp.Tool.Poetry.Dependencies["python"] != nil {
		if spec, ok := pp.Tool.Poetry.Dependencies["python"].(string); ok {
			s.Version = &Version{Spec: spec, Evidence: find(ppRel, ppData, "python =")}
		}
	} else if data, ok := t.read(join(dir, "Pipfile")); ok {
		if ev, ok := findFunc(join(dir, "Pipfile"), data, func(l string) bool { return strings.HasPrefix(l, "python_version") }); ok {
			_, v, _ := strings.Cut(ev.Text, "=")
			s.Version = &Version{Spec: strings.Trim(strings.TrimSpace(v), `"'`), Evidence: ev}
		}
	} else if v := versionFile(t, join(dir, "runtime.txt")); v != nil && strings.HasPrefix(v.Spec, "python-") {
		v.Spec = strings.TrimPrefix(v.Spec, "python-")
		s.Version = v
	}

	// Dependencies, for the test runner and ports.
	deps := append([]string{}, pp.Project.Dependencies...)
	for _, g := range pp.Project.OptionalDependencies {
		deps = append(deps, g...)
	}
	for _, g := range pp.DependencyGroups {
		for _, d := range g {
			if ds, ok := d.(string); ok {
				deps = append(deps, ds)
			}
		}
	}
	if p := pp.Tool.Poetry; p != nil {
		for k := range p.Dependencies {
			deps = append(deps, k)
		}
		for k := range p.DevDependencies {
			deps = append(deps, k)
		}
		for _, g := range p.Group {
			for k := range g.Dependencies {
				deps = append(deps, k)
			}
		}
	}
	for _, r := range reqs {
		data, _ := t.read(r)
		deps = append(deps, strings.Split(string(data), "\n")...)
	}
	for _, d := range deps {
		if m := reqName.FindStringSubmatch(d); m != nil {
			s.Deps = append(s.Deps, strings.ToLower(strings.ReplaceAll(m[1], "_", "-")))
		}
	}

	tool := pythonTool(t, dir, pp, hasPP, reqs)
	s.Tools = []Tool{tool}
	s.Install = pythonInstall(t, dir, tool, reqs, pp.BuildSystem.BuildBackend != "" || t.exists(join(dir, "setup.py")) || t.exists(join(dir, "setup.cfg")))

	// Tests: tox, nox, a Makefile, then pytest or unittest.
	if data, ok := t.read(join(dir, "tox.ini")); ok {
		s.Test = &Command{Run: "tox", Origin: "tox.ini", Evidence: find(join(dir, "tox.ini"), data, "[tox")}
		if strings.Contains(string(data), "pytest") && tool.Name != "pipenv" {
			// tox builds one environment per Python version it lists;
			// the workspace has one, so run the suite tox runs directly.
			s.Test = &Command{Run: "python -m pytest", Origin: "tox.ini", Evidence: find(join(dir, "tox.ini"), data, "pytest")}
		}
	} else if data, ok := t.read(join(dir, "noxfile.py")); ok {
		s.Test = &Command{Run: "nox", Origin: "noxfile.py", Evidence: find(join(dir, "noxfile.py"), data, "@nox.session")}
		if strings.Contains(string(data), "pytest") {
			s.Test = &Command{Run: "python -m pytest", Origin: "noxfile.py", Evidence: find(join(dir, "noxfile.py"), data, "pytest")}
		}
	}
	if s.Test == nil {
		def := &Command{Run: "python -m unittest discover", Origin: "default", Evidence: s.Evidence}
		if contains(s.Deps, "pytest") || pp.Tool.Pytest != nil || t.exists(join(dir, "pytest.ini")) || t.exists(join(dir, "conftest.py")) {
			ev := s.Evidence
			if pp.Tool.Pytest != nil {
				ev = find(ppRel, ppData, "[tool.pytest")
			} else if t.exists(join(dir, "pytest.ini")) {
				ev = Evidence{File: join(dir, "pytest.ini")}
			}
			def = &Command{Run: "python -m pytest", Origin: "default", Evidence: ev}
		}
		s.Test = testFor(t, dir, def)
	}
	if tool.Name == "poetry" && strings.HasPrefix(s.Test.Run, "python ") {
		s.Test.Run = "poetry run " + s.Test.Run
	} else if tool.Name == "pipenv" && strings.HasPrefix(s.Test.Run, "python ") {
		s.Test.Run = "pipenv run " + s.Test.Run
	}
	return s
}

// pythonTool decides the package manager from lock files and pyproject.
func pythonTool(t *tree, dir string, pp pyproject, hasPP bool, reqs []string) Tool {
	for _, l := range []struct{ tool, file string }{
		{"uv", "uv.lock"}, {"poetry", "poetry.lock"}, {"pipenv", "Pipfile.lock"}, {"pdm", "pdm.lock"},
	} {
		if t.exists(join(dir, l.file)) {
			return Tool{Name: l.tool, Lockfile: join(dir, l.file), Evidence: Evidence{File: join(dir, l.file)}}
		}
	}
	ppRel := join(dir, "pyproject.toml")
	ppData, _ := t.read(ppRel)
	switch {
	case pp.Tool.Poetry != nil:
		return Tool{Name: "poetry", Evidence: find(ppRel, ppData, "[tool.poetry")}
	case pp.Tool.UV != nil:
		return Tool{Name: "uv", Evidence: find(ppRel, ppData, "[tool.uv")}
	case t.exists(join(dir, "Pipfile")):
		return Tool{Name: "pipenv", Evidence: Evidence{File: join(dir, "Pipfile")}}
	}
	if len(reqs) > 0 {
		return Tool{Name: "pip", Evidence: Evidence{File: reqs[0]}}
	}
	if hasPP {
		return Tool{Name: "pip", Evidence: Evidence{File: ppRel}}
	}
	return Tool{Name: "pip", Evidence: Evidence{File: join(dir, "setup.py")}}
}

func pythonInstall(t *tree, dir string, tool Tool, reqs []string, installable bool) *Command {
	ev := tool.Evidence
	switch tool.Name {
	case "poetry":
		return &Command{Run: "poetry install --no-interaction", Origin: "default", Evidence: ev}
	case "uv":
		return &Command{Run: "uv sync --all-extras", Origin: "default", Evidence: ev}
	case "pipenv":
		return &Command{Run: "pipenv install --dev --system", Origin: "default", Evidence: ev}
	case "pdm":
		return &Command{Run: "pdm install", Origin: "default", Evidence: ev}
	}
	var parts []string
	for _, r := range reqs {
		parts = append(parts, "pip install -r "+shellQuote(strings.TrimPrefix(r, dir+"/")))
	}
	if installable {
		extra := ""
		if data, ok := t.read(join(dir, "pyproject.toml")); ok {
			for _, x := range []string{"dev", "test", "tests", "testing"} {
				if _, ok := findFunc("", data, func(l string) bool { return strings.HasPrefix(l, x+" = [") || strings.HasPrefix(l, x+"=[") }); ok {
					extra = "[" + x + "]"
					break
				}
			}
		}
		parts = append(parts, "pip install -e "+shellQuote("."+extra))
	}
	if len(parts) == 0 {
		return nil
	}
	return &Command{Run: strings.Join(parts, " && "), Origin: "default", Evidence: ev}
}
