package detect

import (
	"encoding/json"
	"sort"
	"strings"
)

// packageJSON is the part of package.json the detector reads.
type packageJSON struct {
	Scripts         map[string]string `json:"scripts"`
	Engines         map[string]string `json:"engines"`
	PackageManager  string            `json:"packageManager"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	Workspaces      json.RawMessage   `json:"workspaces"`
}

// npmDefaultTest is the test script `npm init` writes, which only fails.
const npmDefaultTest = `echo "Error: no test specified" && exit 1`

// detectNode finds a Node project: its version from .nvmrc,
// .node-version or engines.node, its package manager from packageManager
// or the lock file.
func detectNode(t *tree, dir string) *Stack {
	rel := join(dir, "package.json")
	data, ok := t.read(rel)
	if !ok {
		return nil
	}
	var pj packageJSON
	_ = json.Unmarshal(data, &pj)
	s := &Stack{Language: Node, Dir: dir, Evidence: Evidence{File: rel}}
	if v := versionFileUp(t, dir, ".nvmrc"); v != nil {
		s.Version = v
	} else if v := versionFileUp(t, dir, ".node-version"); v != nil {
		s.Version = v
	} else if e := pj.Engines["node"]; e != "" {
		s.Version = &Version{Spec: e, Evidence: find(rel, data, `"node"`)}
	}
	for name := range pj.Dependencies {
		s.Deps = append(s.Deps, name)
	}
	for name := range pj.DevDependencies {
		s.Deps = append(s.Deps, name)
	}
	sort.Strings(s.Deps)

	s.covers = len(pj.Workspaces) > 0 && string(pj.Workspaces) != "null" || t.exists(join(dir, "pnpm-workspace.yaml"))
	tool := nodeTool(t, dir, rel, data, pj)
	s.Tools = []Tool{tool}
	hasDeps := len(pj.Dependencies)+len(pj.DevDependencies) > 0
	if hasDeps {
		s.Install = &Command{Run: nodeInstall(tool), Origin: "default", Evidence: tool.Evidence}
	}
	if sc, ok := pj.Scripts["test"]; ok && strings.TrimSpace(sc) != npmDefaultTest {
		run := tool.Name + " test"
		if tool.Name == "npm" {
			run = "npm test"
		}
		s.Test = &Command{Run: run, Origin: "package.json", Evidence: find(rel, data, `"test"`)}
	} else {
		s.Test = testFor(t, dir, nil)
	}
	return s
}

// nodeTool decides the package manager: the packageManager field, then
// the lock file, then npm.
func nodeTool(t *tree, dir, rel string, data []byte, pj packageJSON) Tool {
	locks := []struct{ tool, file string }{
		{"pnpm", "pnpm-lock.yaml"}, {"yarn", "yarn.lock"}, {"npm", "package-lock.json"}, {"npm", "npm-shrinkwrap.json"}, {"bun", "bun.lockb"}, {"bun", "bun.lock"},
	}
	var lock Tool
	for d := dir; ; {
		for _, l := range locks {
			if t.exists(join(d, l.file)) {
				lock = Tool{Name: l.tool, Lockfile: join(d, l.file), Evidence: Evidence{File: join(d, l.file)}}
				break
			}
		}
		if lock.Name != "" || d == "." {
			break
		}
		d = parentDir(d)
	}
	if pm := pj.PackageManager; pm != "" {
		name, version, _ := strings.Cut(pm, "@")
		version, _, _ = strings.Cut(version, "+")
		tl := Tool{Name: name, Version: version, Evidence: find(rel, data, `"packageManager"`)}
		if lock.Name == name {
			tl.Lockfile = lock.Lockfile
		}
		return tl
	}
	if lock.Name != "" {
		return lock
	}
	return Tool{Name: "npm", Evidence: Evidence{File: rel, Text: "no lock file"}}
}

func nodeInstall(tool Tool) string {
	switch tool.Name {
	case "pnpm":
		if tool.Lockfile != "" {
			return "pnpm install --frozen-lockfile"
		}
		return "pnpm install"
	case "yarn":
		if tool.Lockfile != "" && (tool.Version == "" || strings.HasPrefix(tool.Version, "1.")) {
			return "yarn install --frozen-lockfile"
		}
		return "yarn install"
	case "bun":
		return "bun install"
	}
	if tool.Lockfile != "" {
		return "npm ci"
	}
	return "npm install"
}

func parentDir(d string) string {
	i := strings.LastIndex(d, "/")
	if i < 0 {
		return "."
	}
	return d[:i]
}
