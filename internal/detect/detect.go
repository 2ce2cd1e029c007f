// Package detect reads a source tree and reports what a development
// environment for it needs: the languages and the versions the project
// asks for, its package managers, the services it expects, its install and
// test commands and the ports it serves, each with the evidence (file,
// line, text) that shows it. It is pure: it reads files and nothing else.
package detect

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Languages a stack can be.
const (
	Go     = "go"
	Node   = "node"
	Python = "python"
	Rust   = "rust"
	Java   = "java"
	Ruby   = "ruby"
)

// Evidence is where a finding comes from.
type Evidence struct {
	// File is relative to the source root, with forward slashes.
	File string `json:"file"`
	// Line is 1-based; 0 when the whole file is the evidence.
	Line int `json:"line,omitempty"`
	// Text is what the file says there, trimmed.
	Text string `json:"text,omitempty"`
}

// String renders evidence as "file:line (text)".
func (e Evidence) String() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Text != "" {
		s += " (" + e.Text + ")"
	}
	return s
}

// Version is a version the project asks for, as written: "1.24.2",
// ">=3.10", "lts/iron", "^20.0.0".
type Version struct {
	Spec     string   `json:"spec"`
	Evidence Evidence `json:"evidence"`
}

// Tool is a package manager or build tool a stack uses.
type Tool struct {
	// Name is one of npm, pnpm, yarn, pip, poetry, uv, pipenv, cargo,
	// gomod, maven, gradle, bundler.
	Name string `json:"name"`
	// Version is the tool's version when the project pins one.
	Version string `json:"version,omitempty"`
	// Lockfile is the lock file that shows the tool, if any.
	Lockfile string   `json:"lockfile,omitempty"`
	Evidence Evidence `json:"evidence"`
}

// Command is a shell command the project runs, with where it came from.
type Command struct {
	// Run is a command for sh -c, run in the stack's folder.
	Run string `json:"run"`
	// Origin says what kind of source named it: "Makefile", "package.json",
	// "tox.ini", "noxfile.py", "CI workflow" or "default".
	Origin   string   `json:"origin"`
	Evidence Evidence `json:"evidence"`
}

// Stack is one language project in the tree; a monorepo has several.
type Stack struct {
	Language string `json:"language"`
	// Dir is the project's folder relative to the root ("." for the root).
	Dir string `json:"dir"`
	// Version is the version the project asks for; nil when it names none.
	Version *Version `json:"version,omitempty"`
	// Tools are its package managers and build tools, the main one first.
	Tools []Tool `json:"tools,omitempty"`
	// Install installs its dependencies; nil when there are none.
	Install *Command `json:"install,omitempty"`
	// Test runs its tests; nil when none is known.
	Test *Command `json:"test,omitempty"`
	// Evidence is the manifest that shows the stack.
	Evidence Evidence `json:"evidence"`
	// Deps are dependency names the detector looked at (frameworks,
	// test libraries), for ports and services.
	Deps []string `json:"-"`
	// covers is true when the stack's build covers projects below it
	// (npm/pnpm/yarn workspaces, Maven modules, Gradle subprojects).
	covers bool
}

// Tool returns the stack's main tool, or "".
func (s *Stack) Tool() string {
	if len(s.Tools) == 0 {
		return ""
	}
	return s.Tools[0].Name
}

// Service is something the project expects to run beside it.
type Service struct {
	// Name is a kind of service: postgres, mysql, redis, mongodb,
	// rabbitmq, elasticsearch, memcached, docker, or the Compose service
	// name when the image is not one Pitlane knows.
	Name string `json:"name"`
	// Image is the Compose image, when the service comes from Compose.
	Image string `json:"image,omitempty"`
	// URL is a connection URL the project's environment names.
	URL string `json:"url,omitempty"`
	// Env is the variable that holds URL.
	Env      string   `json:"env,omitempty"`
	Evidence Evidence `json:"evidence"`
}

// Port is a port the project serves.
type Port struct {
	Port     int      `json:"port"`
	Evidence Evidence `json:"evidence"`
}

// Report is everything found in a tree.
type Report struct {
	Stacks   []Stack   `json:"stacks"`
	Services []Service `json:"services,omitempty"`
	Ports    []Port    `json:"ports,omitempty"`
	// Test is a test command for the whole tree (a Makefile target at the
	// root), when there is one; otherwise each stack's Test.
	Test *Command `json:"test,omitempty"`
	// CI holds test commands seen in CI workflow files.
	CI []Command `json:"ci,omitempty"`
}

// Languages returns the stacks' languages, each once, in stack order.
func (r *Report) Languages() []string {
	var out []string
	for _, s := range r.Stacks {
		if !contains(out, s.Language) {
			out = append(out, s.Language)
		}
	}
	return out
}

// TestCommand is the command that runs all the tree's tests from the root,
// and its evidence; ok is false when none is known.
func (r *Report) TestCommand() (run string, ev []Evidence, ok bool) {
	if r.Test != nil {
		return r.Test.Run, []Evidence{r.Test.Evidence}, true
	}
	var parts []string
	for _, s := range r.Stacks {
		if s.Test == nil {
			continue
		}
		c := s.Test.Run
		if s.Dir != "." {
			c = "(cd " + shellQuote(s.Dir) + " && " + c + ")"
		}
		if !contains(parts, c) {
			parts = append(parts, c)
			ev = append(ev, s.Test.Evidence)
		}
	}
	if len(parts) == 0 {
		return "", nil, false
	}
	return strings.Join(parts, " && "), ev, true
}

// Empty reports whether nothing was found.
func (r *Report) Empty() bool {
	return len(r.Stacks) == 0 && len(r.Services) == 0
}

// maxDepth is how deep below the root the detector looks for projects.
const maxDepth = 2

// skipDirs are folders that never hold a project of the tree's own.
var skipDirs = map[string]bool{
	".git": true, "node_modules": true, "vendor": true, "target": true, "build": true,
	"dist": true, "out": true, ".venv": true, "venv": true, "env": true, "__pycache__": true,
	"testdata": true, "fixtures": true, "examples": true, "example": true, "third_party": true,
	".tox": true, ".nox": true, ".next": true, ".cache": true, ".devcontainer": true,
	".github": true, ".idea": true, ".vscode": true, ".gradle": true, ".mvn": true, "docs": true,
}

// tree reads files of one source tree; paths are slash-separated and
// relative to the root.
type tree struct {
	root  string
	cache map[string][]byte
}

func (t *tree) read(rel string) ([]byte, bool) {
	if b, ok := t.cache[rel]; ok {
		return b, b != nil
	}
	b, err := os.ReadFile(filepath.Join(t.root, filepath.FromSlash(rel)))
	if err != nil || len(b) > 4<<20 {
		b = nil
	}
	t.cache[rel] = b
	return b, b != nil
}

func (t *tree) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(t.root, filepath.FromSlash(rel)))
	return err == nil
}

func (t *tree) glob(dir, pattern string) []string {
	m, _ := filepath.Glob(filepath.Join(t.root, filepath.FromSlash(dir), pattern))
	var out []string
	for _, p := range m {
		if rel, err := filepath.Rel(t.root, p); err == nil {
			out = append(out, filepath.ToSlash(rel))
		}
	}
	sort.Strings(out)
	return out
}

// Dir detects what the tree at root needs.
func Dir(root string) (*Report, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", root)
	}
	t := &tree{root: root, cache: map[string][]byte{}}
	dirs := []string{"."}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil
		}
		if !d.IsDir() || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if skipDirs[d.Name()] || strings.HasPrefix(d.Name(), ".") || strings.Count(rel, "/") >= maxDepth {
			return filepath.SkipDir
		}
		dirs = append(dirs, rel)
		return nil
	})
	if err != nil {
		return nil, err
	}
	r := &Report{Stacks: []Stack{}}
	tv := t.toolVersions()
	for _, dir := range dirs {
		for _, f := range []func(*tree, string) *Stack{detectGo, detectNode, detectPython, detectRust, detectJava, detectRuby} {
			if s := f(t, dir); s != nil {
				if s.Version == nil {
					s.Version = tv.lookup(t, s.Language, dir)
				}
				r.Stacks = append(r.Stacks, *s)
			}
		}
	}
	dropNested(r)
	r.Test = makeTest(t, ".")
	r.CI = ciCommands(t)
	useCI(r)
	ciVersions(t, r)
	r.Services = services(t, r)
	r.Ports = ports(t, r)
	return r, nil
}

// dropNested removes stacks inside another stack of the same language
// whose build covers them (workspaces, Maven modules, Gradle
// subprojects).
func dropNested(r *Report) {
	var out []Stack
	for _, s := range r.Stacks {
		covered := false
		for _, o := range r.Stacks {
			if o.Language == s.Language && o.Dir != s.Dir && isBelow(s.Dir, o.Dir) && o.covers {
				covered = true
			}
		}
		if !covered {
			out = append(out, s)
		}
	}
	r.Stacks = out
}

func isBelow(dir, parent string) bool {
	return parent == "." || strings.HasPrefix(dir, parent+"/")
}

// join makes a slash path of a folder and a file.
func join(dir, file string) string {
	if dir == "." || dir == "" {
		return file
	}
	return path.Join(dir, file)
}

// find returns the first line of data containing sub, as evidence.
func find(file string, data []byte, sub string) Evidence {
	for i, line := range bytes.Split(data, []byte("\n")) {
		if bytes.Contains(line, []byte(sub)) {
			return Evidence{File: file, Line: i + 1, Text: clip(strings.TrimSpace(string(line)))}
		}
	}
	return Evidence{File: file}
}

// findFunc returns the first line for which match is true, as evidence.
func findFunc(file string, data []byte, match func(string) bool) (Evidence, bool) {
	for i, line := range bytes.Split(data, []byte("\n")) {
		if s := strings.TrimSpace(string(line)); match(s) {
			return Evidence{File: file, Line: i + 1, Text: clip(s)}, true
		}
	}
	return Evidence{}, false
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// firstLine returns the first non-empty, non-comment line of data.
func firstLine(data []byte) (string, int) {
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			return l, i + 1
		}
	}
	return "", 0
}

// versionFile reads a one-line version file (.nvmrc, .python-version).
func versionFile(t *tree, rel string) *Version {
	data, ok := t.read(rel)
	if !ok {
		return nil
	}
	l, n := firstLine(data)
	if l == "" {
		return nil
	}
	return &Version{Spec: l, Evidence: Evidence{File: rel, Line: n, Text: l}}
}

// versionFileUp reads a version file in dir or any folder above it.
func versionFileUp(t *tree, dir, name string) *Version {
	for {
		if v := versionFile(t, join(dir, name)); v != nil {
			return v
		}
		if dir == "." {
			return nil
		}
		dir = path.Dir(dir)
	}
}
