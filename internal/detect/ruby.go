package detect

import (
	"regexp"
	"strings"
)

var gemfileRuby = regexp.MustCompile(`^ruby\s+['"]([^'"]+)['"]`)

// detectRuby finds a Ruby project (a Gemfile, or a Rakefile with a
// .ruby-version): its version from .ruby-version or the Gemfile's ruby
// line.
func detectRuby(t *tree, dir string) *Stack {
	rel := join(dir, "Gemfile")
	data, hasGemfile := t.read(rel)
	if !hasGemfile {
		if !t.exists(join(dir, "Rakefile")) && !t.exists(join(dir, ".ruby-version")) {
			return nil
		}
		rel = join(dir, "Rakefile")
		if !t.exists(rel) {
			rel = join(dir, ".ruby-version")
		}
	}
	s := &Stack{Language: Ruby, Dir: dir, Evidence: Evidence{File: rel}}
	if v := versionFileUp(t, dir, ".ruby-version"); v != nil {
		v.Spec = strings.TrimPrefix(v.Spec, "ruby-")
		s.Version = v
	} else if hasGemfile {
		if ev, ok := findFunc(rel, data, gemfileRuby.MatchString); ok {
			s.Version = &Version{Spec: gemfileRuby.FindStringSubmatch(ev.Text)[1], Evidence: ev}
		}
	}
	if hasGemfile {
		for _, m := range regexp.MustCompile(`(?m)^\s*gem\s+['"]([^'"]+)['"]`).FindAllSubmatch(data, -1) {
			s.Deps = append(s.Deps, string(m[1]))
		}
		tool := Tool{Name: "bundler", Evidence: Evidence{File: rel}}
		if t.exists(join(dir, "Gemfile.lock")) {
			tool.Lockfile = join(dir, "Gemfile.lock")
			tool.Evidence = Evidence{File: tool.Lockfile}
		}
		s.Tools = []Tool{tool}
		s.Install = &Command{Run: "bundle install", Origin: "default", Evidence: tool.Evidence}
	}
	def := &Command{Run: "rake test", Origin: "default", Evidence: s.Evidence}
	if contains(s.Deps, "rspec") || t.exists(join(dir, ".rspec")) {
		def = &Command{Run: "rspec", Origin: "default", Evidence: Evidence{File: rel, Text: "rspec"}}
	}
	if hasGemfile {
		def.Run = "bundle exec " + def.Run
	}
	s.Test = testFor(t, dir, def)
	return s
}
