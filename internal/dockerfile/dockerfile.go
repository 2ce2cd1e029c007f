// Package dockerfile reads what Pitlane needs to know about a Dockerfile
// before building it, with the builder's own parser and variable rules.
package dockerfile

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// BaseImages returns the images a Dockerfile reads, in order of first
// use: every FROM and every COPY --from that names an image rather than
// an earlier stage (by name or number) or scratch. Build args, and the
// defaults of the ARGs before the first FROM, are expanded as the builder
// expands them. A FROM that expands to nothing, or a Dockerfile without
// FROM, is an error that names the line.
func BaseImages(dockerfile []byte, args map[string]string) ([]string, error) {
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil, fmt.Errorf("reading the Dockerfile: %w", err)
	}
	lex := shell.NewLex(res.EscapeToken)
	global := envMap{}
	stages := map[string]bool{}
	var out []string
	add := func(img string) {
		if !stages[strings.ToLower(img)] && !strings.EqualFold(img, "scratch") && !slices.Contains(out, img) {
			out = append(out, img)
		}
	}
	seenFrom := false
	for _, n := range res.AST.Children {
		switch strings.ToLower(n.Value) {
		case "arg":
			if seenFrom {
				continue
			}
			for a := n.Next; a != nil; a = a.Next {
				name, def, hasDef := strings.Cut(a.Value, "=")
				if v, ok := args[name]; ok {
					global[name] = v
				} else if hasDef {
					v, _, err := lex.ProcessWord(def, global)
					if err != nil {
						return nil, fmt.Errorf("line %d of the Dockerfile: %w", n.StartLine, err)
					}
					global[name] = v
				}
			}
		case "from":
			seenFrom = true
			if n.Next == nil {
				return nil, fmt.Errorf("line %d of the Dockerfile: FROM names no image", n.StartLine)
			}
			img, _, err := lex.ProcessWord(n.Next.Value, global)
			if err != nil {
				return nil, fmt.Errorf("line %d of the Dockerfile: %w", n.StartLine, err)
			}
			if img == "" {
				return nil, fmt.Errorf("line %d of the Dockerfile: FROM %s expands to nothing: give the build arg a value", n.StartLine, n.Next.Value)
			}
			add(img)
			// The stage's name is known to the instructions after this one.
			if as := n.Next.Next; as != nil && strings.EqualFold(as.Value, "as") && as.Next != nil {
				stages[strings.ToLower(as.Next.Value)] = true
			}
		case "copy":
			for _, f := range n.Flags {
				from, ok := strings.CutPrefix(f, "--from=")
				if !ok || from == "" {
					continue
				}
				if _, err := strconv.Atoi(from); err == nil {
					continue // a stage by number
				}
				img, _, err := lex.ProcessWord(from, global)
				if err != nil || img == "" {
					continue
				}
				add(img)
			}
		}
	}
	if !seenFrom {
		return nil, fmt.Errorf("the Dockerfile has no FROM instruction")
	}
	return out, nil
}

// envMap is a shell.EnvGetter over a map.
type envMap map[string]string

func (e envMap) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }

func (e envMap) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
