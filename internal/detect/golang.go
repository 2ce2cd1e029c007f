package detect

import (
	"strings"

	"golang.org/x/mod/modfile"
)

// detectGo finds a Go module: go.mod's toolchain line wins over its go
// line, as the go command itself decides.
func detectGo(t *tree, dir string) *Stack {
	rel := join(dir, "go.mod")
	data, ok := t.read(rel)
	if !ok {
		return nil
	}
	s := &Stack{Language: Go, Dir: dir, Evidence: Evidence{File: rel}}
	f, err := modfile.Parse(rel, data, nil)
	if err != nil {
		f, err = modfile.ParseLax(rel, data, nil)
	}
	if err == nil {
		if f.Module != nil {
			s.Evidence = find(rel, data, "module ")
		}
		if f.Toolchain != nil && f.Toolchain.Name != "default" {
			s.Version = &Version{Spec: strings.TrimPrefix(f.Toolchain.Name, "go"), Evidence: find(rel, data, "toolchain ")}
		} else if f.Go != nil {
			s.Version = &Version{Spec: f.Go.Version, Evidence: find(rel, data, "go "+f.Go.Version)}
		}
		for _, r := range f.Require {
			s.Deps = append(s.Deps, r.Mod.Path)
		}
	}
	tool := Tool{Name: "gomod", Evidence: s.Evidence}
	if t.exists(join(dir, "go.sum")) {
		tool.Lockfile = join(dir, "go.sum")
		tool.Evidence = Evidence{File: tool.Lockfile}
	}
	s.Tools = []Tool{tool}
	if f != nil && len(f.Require) > 0 {
		s.Install = &Command{Run: "go mod download", Origin: "default", Evidence: Evidence{File: rel, Text: "go modules"}}
	}
	s.Test = testFor(t, dir, &Command{Run: "go test ./...", Origin: "default", Evidence: s.Evidence})
	return s
}
