package detect

import "strings"

// toolVersionNames maps .tool-versions (asdf, mise) names to languages.
var toolVersionNames = map[string]string{
	"golang": Go, "go": Go, "nodejs": Node, "node": Node, "python": Python,
	"rust": Rust, "java": Java, "ruby": Ruby,
}

type toolVersions struct{}

func (t *tree) toolVersions() toolVersions { return toolVersions{} }

// lookup finds a version for lang in dir or above it: .tool-versions,
// then the single-language version files not read by the stack itself
// (.go-version, .java-version, .sdkmanrc).
func (toolVersions) lookup(t *tree, lang, dir string) *Version {
	for d := dir; ; d = parentDir(d) {
		rel := join(d, ".tool-versions")
		if data, ok := t.read(rel); ok {
			ev, ok := findFunc(rel, data, func(l string) bool {
				f := strings.Fields(l)
				return len(f) >= 2 && toolVersionNames[f[0]] == lang
			})
			if ok {
				return &Version{Spec: strings.Fields(ev.Text)[1], Evidence: ev}
			}
		}
		switch lang {
		case Go:
			if v := versionFile(t, join(d, ".go-version")); v != nil {
				return v
			}
		case Java:
			if v := versionFile(t, join(d, ".java-version")); v != nil {
				return v
			}
			rel := join(d, ".sdkmanrc")
			if data, ok := t.read(rel); ok {
				if ev, ok := findFunc(rel, data, func(l string) bool { return strings.HasPrefix(l, "java=") }); ok {
					return &Version{Spec: strings.TrimPrefix(ev.Text, "java="), Evidence: ev}
				}
			}
		}
		if d == "." {
			return nil
		}
	}
}
