// Package generate turns what package detect found in a repository into
// a devcontainer.json and a Dockerfile that build on Pitlane's base image
// and install each toolchain at the version the repository asks for, by
// routes that need only Debian's packages and the language registries
// (the Go module proxy, npm, PyPI, Maven Central, crates). Every choice
// carries a comment naming the file it came from. It also checks a
// repository against a config for drift. It is pure: it never talks to
// Docker.
package generate

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/pitlane/pitlane/internal/detect"
)

// DefaultBaseImage is the image generated Dockerfiles build from.
const DefaultBaseImage = "pitlane/base:bookworm"

// File names of a generated config.
const (
	ConfigFile     = "devcontainer.json"
	DockerfileFile = "Dockerfile"
	ServicesFile   = "start-services.sh"
	// CertsDir is the folder of extra CA certificates in the build
	// context, when Options.Certs is set.
	CertsDir = "certs"
)

// Options tune what is generated.
type Options struct {
	// Name is the config's name (the repository's folder name).
	Name string
	// BaseImage is the image to build from; default DefaultBaseImage.
	BaseImage string
	// Certs adds the CA certificates in the build context's certs/ folder
	// to the image's trust store: the certificates the host trusts beyond
	// the system's (a TLS-inspecting proxy), so the registries are reached
	// from the build as from the host. Off for configs written into a
	// repository.
	Certs bool
}

// Choice is one thing the generated config installs, and why.
type Choice struct {
	// What is what is installed: "Go 1.24.2", "pnpm 9.1.0", "PostgreSQL 15".
	What string `json:"what"`
	// Asked is the version the repository asks for, as written.
	Asked string `json:"asked,omitempty"`
	// Via is the route: the registry or package source.
	Via string `json:"via"`
	// From is the evidence.
	From detect.Evidence `json:"from"`
	// Note explains a version other than the one asked, or a missing
	// route.
	Note string `json:"note,omitempty"`
}

// Result is a generated config.
type Result struct {
	// Summary names the setup: "Go 1.24 + PostgreSQL".
	Summary string `json:"summary"`
	// Files are the generated files by name (ConfigFile, DockerfileFile,
	// and ServicesFile when services run).
	Files map[string]string `json:"files"`
	// Choices list what is installed, in install order.
	Choices []Choice `json:"choices"`
	// Warnings are versions asked for that cannot be installed here, and
	// what was installed instead; the user must know them.
	Warnings []string `json:"warnings,omitempty"`
	// Test is the test command, if one is known.
	Test string `json:"test,omitempty"`
	// Record is what the config was generated from, also written into the
	// config under customizations.pitlane.detected.
	Record Record `json:"record"`
}

// Record is what a generated config was made from, for drift checks.
type Record struct {
	Toolchains []RecordToolchain `json:"toolchains,omitempty"`
	Tools      []RecordTool      `json:"tools,omitempty"`
	Services   []string          `json:"services,omitempty"`
	Test       *RecordTest       `json:"test,omitempty"`
}

// RecordToolchain is one installed language.
type RecordToolchain struct {
	Language string `json:"language"`
	// Installed is the installed version, or the range npm resolved.
	Installed string `json:"installed"`
	Asked     string `json:"asked,omitempty"`
	File      string `json:"file,omitempty"`
}

// RecordTool is one package manager, in one folder.
type RecordTool struct {
	Name     string `json:"name"`
	Dir      string `json:"dir"`
	Lockfile string `json:"lockfile,omitempty"`
}

// RecordTest is the test command and where it came from.
type RecordTest struct {
	Run    string `json:"run"`
	Origin string `json:"origin"`
	File   string `json:"file,omitempty"`
}

// languageNames are the languages as people write them.
var languageNames = map[string]string{
	detect.Go: "Go", detect.Node: "Node", detect.Python: "Python", detect.Rust: "Rust", detect.Java: "Java", detect.Ruby: "Ruby",
}

// serviceNames are the services as people write them.
var serviceNames = map[string]string{
	"postgres": "PostgreSQL", "mysql": "MySQL", "redis": "Redis", "mongodb": "MongoDB", "rabbitmq": "RabbitMQ",
	"elasticsearch": "Elasticsearch", "memcached": "Memcached", "docker": "Docker",
}

// languageOrder is the order toolchains install in (and are summarized).
var languageOrder = []string{detect.Go, detect.Node, detect.Python, detect.Rust, detect.Java, detect.Ruby}

// Generate makes a config from a detection report.
func Generate(r *detect.Report, opts Options) (*Result, error) {
	if opts.BaseImage == "" {
		opts.BaseImage = DefaultBaseImage
	}
	g := &gen{r: r, opts: opts, res: &Result{Files: map[string]string{}}}
	g.toolchains()
	g.services()
	g.res.Files[DockerfileFile] = g.dockerfile()
	if len(g.svcScript) > 0 {
		g.res.Files[ServicesFile] = g.servicesScript()
	}
	cfg, err := g.config()
	if err != nil {
		return nil, err
	}
	g.res.Files[ConfigFile] = cfg
	g.res.Summary = g.summaryText()
	return g.res, nil
}

type gen struct {
	r    *detect.Report
	opts Options
	res  *Result

	svcApt     []aptNeed // service packages
	steps      []step    // Dockerfile steps, in order; a step with apt installs packages
	summary    []string
	svcSummary []string
	svcScript  []string
	env        [][2]string // containerEnv, with comments
	envNotes   []string
}

type aptNeed struct {
	pkg, why string
}

type step struct {
	comment []string
	lines   []string
	// apt, when set, makes the step a Debian package install.
	apt []aptNeed
}

// primary picks, among a language's stacks, the one asking for the newest
// version: one toolchain serves them all.
func primary(stacks []detect.Stack) *detect.Stack {
	var best *detect.Stack
	var bestV version
	for i := range stacks {
		s := &stacks[i]
		if best == nil {
			best = s
		}
		if s.Version == nil {
			continue
		}
		v, ok := minimum(s.Version.Spec)
		if !ok {
			continue
		}
		if best.Version == nil || bestV.less(v) {
			best, bestV = s, v
		}
	}
	return best
}

func (g *gen) toolchains() {
	byLang := map[string][]detect.Stack{}
	for _, s := range g.r.Stacks {
		byLang[s.Language] = append(byLang[s.Language], s)
	}
	for _, lang := range languageOrder {
		stacks := byLang[lang]
		if len(stacks) == 0 {
			continue
		}
		s := primary(stacks)
		var rt route
		switch lang {
		case detect.Go:
			rt = goRoute(s.Version)
		case detect.Node:
			rt = nodeRoute(s.Version)
		case detect.Python:
			rt = pythonRoute(s.Version)
		case detect.Rust:
			rt = rustRoute(s.Version)
		case detect.Java:
			rt = javaRoute(s.Version)
		case detect.Ruby:
			rt = rubyRoute(s.Version)
		}
		if rt.From.File == "" {
			rt.From = s.Evidence
		}
		// Each language's Debian packages form a layer of their own, so
		// images of projects that share a language share it.
		var apt []aptNeed
		for _, p := range rt.Apt {
			apt = append(apt, aptNeed{p, rt.What})
		}
		for _, t := range s.Tools {
			if t.Name == "maven" {
				apt = append(apt, aptNeed{"maven", "Maven"})
			}
			if t.Name == "gradle" {
				apt = append(apt, aptNeed{"gradle", "Gradle"})
			}
		}
		g.steps = append(g.steps, step{apt: apt})
		if lang == detect.Node {
			g.steps = append(g.steps, step{comment: []string{"npm, to fetch Node itself: the Node wheel from PyPI, used only for that."}, lines: []string{nodeBootstrapRun}})
		}
		rt.Apt = nil
		g.addRoute(rt)
		short := languageNames[lang] + " " + shortVersion(rt)
		g.summary = append(g.summary, short)
		g.res.Record.Toolchains = append(g.res.Record.Toolchains, RecordToolchain{
			Language: lang, Installed: firstNonEmpty(rt.Installed, strings.TrimPrefix(rt.What, languageNames[lang]+" ")), Asked: rt.Asked, File: rt.From.File,
		})
		g.tools(lang, stacks)
	}
	// Every stack's tools are recorded, also those with nothing to install.
	for _, s := range g.r.Stacks {
		for _, t := range s.Tools {
			g.res.Record.Tools = append(g.res.Record.Tools, RecordTool{Name: t.Name, Dir: s.Dir, Lockfile: t.Lockfile})
		}
	}
	if run, ev, ok := g.r.TestCommand(); ok {
		g.res.Test = run
		rt := &RecordTest{Run: run}
		if g.r.Test != nil {
			rt.Origin = g.r.Test.Origin
		} else {
			for _, s := range g.r.Stacks {
				if s.Test != nil {
					rt.Origin = s.Test.Origin
					break
				}
			}
		}
		if len(ev) > 0 {
			rt.File = ev[0].File
		}
		g.res.Record.Test = rt
	}
}

// shortVersion is a version for the summary: major.minor, or the major
// alone for Node and Java.
func shortVersion(rt route) string {
	v := firstNonEmpty(rt.Installed, strings.Fields(rt.What)[len(strings.Fields(rt.What))-1])
	if isRange(v) {
		if m, ok := minimum(v); ok {
			return strconv.Itoa(m.major)
		}
		return v
	}
	pv, ok := parseVersion(v)
	if !ok {
		return v
	}
	if strings.HasPrefix(rt.What, "Node") || strings.HasPrefix(rt.What, "Java") || pv.minor < 0 {
		return strconv.Itoa(pv.major)
	}
	return fmt.Sprintf("%d.%d", pv.major, pv.minor)
}

func (g *gen) addRoute(rt route) {
	c := Choice{What: rt.What, Asked: rt.Asked, Via: rt.Via, From: rt.From, Note: rt.Note}
	g.res.Choices = append(g.res.Choices, c)
	if rt.Warn {
		g.res.Warnings = append(g.res.Warnings, rt.Note)
	}
	comment := []string{fmt.Sprintf("%s: %s, from %s.", rt.What, describeFrom(rt.From), rt.Via)}
	if rt.Note != "" {
		prefix := "Note: "
		if rt.Warn {
			prefix = "WARNING: "
		}
		comment = append(comment, prefix+rt.Note+".")
	}
	if len(rt.Run) == 0 {
		comment[0] = fmt.Sprintf("%s: %s, from %s (installed with the packages above).", rt.What, describeFrom(rt.From), rt.Via)
	}
	g.steps = append(g.steps, step{comment: comment, lines: rt.Run})
}

func describeFrom(e detect.Evidence) string {
	if e.File == "" {
		return "no version named"
	}
	return "asked by " + e.String()
}

// tools installs the package managers a language's stacks use beyond
// the toolchain's own.
func (g *gen) tools(lang string, stacks []detect.Stack) {
	seen := map[string]bool{}
	for _, s := range stacks {
		for _, t := range s.Tools {
			key := t.Name + "@" + t.Version
			if seen[key] {
				continue
			}
			seen[key] = true
			switch t.Name {
			case "pnpm", "yarn", "bun":
				pkg, ver := t.Name, t.Version
				if t.Name == "pnpm" && ver == "" {
					ver = "9"
				}
				if t.Name == "yarn" && ver == "" {
					ver = "1"
				}
				if t.Name == "yarn" && !strings.HasPrefix(ver, "1") {
					pkg = "@yarnpkg/cli-dist"
				}
				if ver == "" {
					ver = "latest"
				}
				g.steps = append(g.steps, step{
					comment: []string{fmt.Sprintf("%s %s: %s, from the npm registry.", t.Name, ver, describeFrom(t.Evidence))},
					lines:   []string{"RUN npm install -g --no-audit --no-fund " + pkg + "@" + ver},
				})
				g.res.Choices = append(g.res.Choices, Choice{What: t.Name + " " + ver, Asked: t.Version, Via: "npm registry", From: t.Evidence})
			case "poetry", "uv", "pipenv", "pdm":
				ver := ""
				if t.Version != "" {
					ver = "==" + t.Version
				}
				g.steps = append(g.steps, step{
					comment: []string{fmt.Sprintf("%s: %s, from PyPI, in a virtual environment of its own.", t.Name, describeFrom(t.Evidence))},
					lines: []string{fmt.Sprintf("RUN python3 -m venv /opt/pitlane/%s && /opt/pitlane/%s/bin/pip install --no-cache-dir -q '%s%s' \\\n    && ln -s /opt/pitlane/%s/bin/%s /usr/local/bin/%s",
						t.Name, t.Name, t.Name, ver, t.Name, t.Name, t.Name)},
				})
				g.res.Choices = append(g.res.Choices, Choice{What: t.Name, Via: "PyPI", From: t.Evidence})
				switch t.Name {
				case "poetry":
					g.addEnv("POETRY_VIRTUALENVS_CREATE", "false", "poetry ("+t.Evidence.String()+") installs into /opt/venv, the image's virtual environment")
				case "uv":
					g.addEnv("UV_PROJECT_ENVIRONMENT", "/opt/venv", "uv ("+t.Evidence.String()+") syncs into /opt/venv, the image's virtual environment")
					g.addEnv("UV_PYTHON_DOWNLOADS", "never", "uv uses the installed Python; its Python downloads come from GitHub")
					g.addEnv("UV_LINK_MODE", "copy", "uv copies files: the cache and /opt/venv are on different file systems")
				case "pipenv":
					g.addEnv("PIPENV_VERBOSITY", "-1", "pipenv ("+t.Evidence.String()+") installs into /opt/venv without notices")
				}
			case "maven":
				rt := mavenRoute(t)
				rt.Apt = nil // in the language's package layer
				g.addRoute(rt)
			case "gradle":
				rt := gradleRoute(t)
				rt.Apt = nil
				g.addRoute(rt)
			}
		}
	}
	// tox and nox when the tests run through them.
	for _, s := range stacks {
		if s.Test != nil && (s.Test.Run == "tox" || s.Test.Run == "nox") && !seen[s.Test.Run] {
			seen[s.Test.Run] = true
			g.steps = append(g.steps, step{
				comment: []string{fmt.Sprintf("%s: the tests run through it (%s), from PyPI.", s.Test.Run, s.Test.Evidence)},
				lines:   []string{fmt.Sprintf("RUN /opt/venv/bin/pip install --no-cache-dir -q %s", s.Test.Run)},
			})
		}
	}
}

func (g *gen) addEnv(k, v, why string) {
	for _, e := range g.env {
		if e[0] == k {
			return
		}
	}
	g.env = append(g.env, [2]string{k, v})
	g.envNotes = append(g.envNotes, why)
}

// services installs the services the repository expects from Debian and
// starts them with the workspace.
func (g *gen) services() {
	for _, s := range g.r.Services {
		name := serviceNames[s.Name]
		if name == "" {
			name = s.Name
		}
		switch s.Name {
		case "postgres":
			note := ""
			if s.Image != "" {
				if v, ok := parseVersion(afterColon(s.Image)); ok && v.major != 15 {
					note = fmt.Sprintf("%s asks for PostgreSQL %d; Debian bookworm has %s, the closest that installs here", s.Evidence.File, v.major, debianPG)
				}
			}
			g.svcApt = append(g.svcApt, aptNeed{"postgresql", "PostgreSQL"})
			g.svcSummary = append(g.svcSummary, "PostgreSQL")
			user, pass, db := pgCreds(s.URL)
			g.svcScript = append(g.svcScript,
				"# PostgreSQL "+debianPG+": "+s.Evidence.String(),
				"pg_ctlcluster "+debianPG+" main start 2>/dev/null || pg_ctlcluster "+debianPG+" main status >/dev/null",
				"cat > /tmp/pitlane-postgres.sql <<'SQL'",
				"DO $$ BEGIN",
				fmt.Sprintf("  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%s') THEN CREATE ROLE \"%s\" LOGIN SUPERUSER PASSWORD '%s'; END IF;", user, user, pass),
				"END $$;",
				fmt.Sprintf("SELECT 'CREATE DATABASE \"%s\" OWNER \"%s\"' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '%s')\\gexec", db, user, db),
				"SQL",
				"su postgres -c 'psql -q -f /tmp/pitlane-postgres.sql' >/dev/null",
			)
			if s.Env != "" && s.URL != "" {
				g.addEnv(s.Env, s.URL, "from "+s.Evidence.String())
			}
			g.res.Choices = append(g.res.Choices, Choice{What: "PostgreSQL " + debianPG, Via: "Debian package postgresql", From: s.Evidence, Note: note})
			if note != "" {
				g.res.Warnings = append(g.res.Warnings, note)
			}
		case "redis":
			g.svcApt = append(g.svcApt, aptNeed{"redis-server", "Redis"})
			g.svcSummary = append(g.svcSummary, "Redis")
			g.svcScript = append(g.svcScript, "# Redis: "+s.Evidence.String(), "redis-cli ping >/dev/null 2>&1 || redis-server --daemonize yes --save '' --appendonly no")
			if s.Env != "" && s.URL != "" {
				g.addEnv(s.Env, s.URL, "from "+s.Evidence.String())
			}
			g.res.Choices = append(g.res.Choices, Choice{What: "Redis " + debianRedis, Via: "Debian package redis-server", From: s.Evidence})
		case "mysql":
			g.svcApt = append(g.svcApt, aptNeed{"mariadb-server", "MySQL"})
			g.svcSummary = append(g.svcSummary, "MySQL")
			g.svcScript = append(g.svcScript, "# MySQL (MariaDB): "+s.Evidence.String(), "/etc/init.d/mariadb start >/dev/null || true")
			if s.Env != "" && s.URL != "" {
				g.addEnv(s.Env, s.URL, "from "+s.Evidence.String())
			}
			g.res.Choices = append(g.res.Choices, Choice{What: "MariaDB (for MySQL)", Via: "Debian package mariadb-server", From: s.Evidence, Note: "MariaDB stands in for MySQL, which Debian does not package"})
		case "memcached":
			g.svcApt = append(g.svcApt, aptNeed{"memcached", "Memcached"})
			g.svcSummary = append(g.svcSummary, "Memcached")
			g.svcScript = append(g.svcScript, "# Memcached: "+s.Evidence.String(), "pgrep -x memcached >/dev/null || memcached -d -u nobody")
			g.res.Choices = append(g.res.Choices, Choice{What: "Memcached", Via: "Debian package memcached", From: s.Evidence})
		default:
			w := fmt.Sprintf("%s (%s) is not installed: no route installs it inside the workspace here", name, s.Evidence)
			if s.Name == "docker" {
				w = fmt.Sprintf("Testcontainers (%s) need a Docker engine, which the workspace does not have: tests that start containers fail", s.Evidence)
			}
			g.res.Warnings = append(g.res.Warnings, w)
			g.res.Choices = append(g.res.Choices, Choice{What: name, Via: "none", From: s.Evidence, Note: w})
		}
		g.res.Record.Services = append(g.res.Record.Services, s.Name)
	}
}

func afterColon(image string) string {
	_, tag, _ := strings.Cut(imageTail(image), ":")
	return tag
}

func imageTail(image string) string {
	if i := strings.LastIndex(image, "/"); i >= 0 {
		return image[i+1:]
	}
	return image
}

// pgCreds reads the user, password and database of a PostgreSQL URL;
// without one they are all "postgres"/"dev".
func pgCreds(raw string) (user, pass, db string) {
	user, pass, db = "dev", "dev", "dev"
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return
	}
	if n := u.User.Username(); safeIdent(n) {
		user = n
	}
	if p, ok := u.User.Password(); ok && safeIdent(p) {
		pass = p
	}
	if d := strings.TrimPrefix(u.Path, "/"); safeIdent(d) {
		db = d
	}
	return
}

func safeIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func (g *gen) dockerfile() string {
	var b strings.Builder
	b.WriteString("# Generated by Pitlane from the files of this repository. Each step says which\n")
	b.WriteString("# file asked for it. Regenerate with `pitlane config . --generate --write`.\n")
	fmt.Fprintf(&b, "FROM %s\n", g.opts.BaseImage)
	if g.opts.Certs {
		b.WriteString("\n# The certificates this machine trusts beyond the system's (a TLS-inspecting\n")
		b.WriteString("# proxy, a company CA), so the registries are reached from here as from the host.\n")
		fmt.Fprintf(&b, "COPY %s/ /usr/local/share/ca-certificates/pitlane-host/\n", CertsDir)
		b.WriteString("RUN update-ca-certificates >/dev/null\n")
	}
	b.WriteString("\n# Tools that carry their own certificate list (pip, Node, uv) use the system's.\n")
	b.WriteString("ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \\\n    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \\\n    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \\\n    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \\\n    PIP_DISABLE_PIP_VERSION_CHECK=1\n")
	writeApt(&b, []aptNeed{{"make", "Makefiles"}}, "Debian packages every project gets")
	for _, s := range g.steps {
		if s.apt != nil {
			writeApt(&b, s.apt, "Debian packages")
			continue
		}
		if len(s.lines) == 0 && len(s.comment) == 0 {
			continue
		}
		b.WriteString("\n")
		for _, c := range s.comment {
			b.WriteString(commentLines("# ", c))
		}
		for _, l := range s.lines {
			b.WriteString(l + "\n")
		}
	}
	if len(g.svcApt) > 0 {
		writeApt(&b, g.svcApt, "Services, from Debian packages (started by "+ServicesFile+")")
		fmt.Fprintf(&b, "COPY %s /usr/local/share/pitlane/%s\n", ServicesFile, ServicesFile)
	}
	return b.String()
}

func writeApt(b *strings.Builder, needs []aptNeed, title string) {
	byPkg := map[string][]string{}
	for _, n := range needs {
		if !contains(byPkg[n.pkg], n.why) {
			byPkg[n.pkg] = append(byPkg[n.pkg], n.why)
		}
	}
	pkgs := make([]string, 0, len(byPkg))
	for p := range byPkg {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	fmt.Fprintf(b, "\n# %s:\n", title)
	for _, p := range pkgs {
		fmt.Fprintf(b, "#   %s for %s\n", p, strings.Join(byPkg[p], ", "))
	}
	b.WriteString("RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\\n")
	fmt.Fprintf(b, "       %s >/dev/null \\\n", strings.Join(pkgs, " "))
	b.WriteString("    && rm -rf /var/lib/apt/lists/*\n")
}

func commentLines(prefix, text string) string {
	var b strings.Builder
	line := prefix
	for _, w := range strings.Fields(text) {
		if len(line)+len(w)+1 > 88 && line != prefix {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = prefix
		}
		line += w + " "
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n")
	return b.String()
}

func (g *gen) servicesScript() string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# Generated by Pitlane: starts the services the repository expects.\n# Runs at every start of the workspace (postStartCommand).\nset -e\n")
	for _, l := range g.svcScript {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// config writes the devcontainer.json, as JSON with comments.
func (g *gen) config() (string, error) {
	var b strings.Builder
	b.WriteString("// Generated by Pitlane from the files of this repository: " + g.summaryText() + ".\n")
	b.WriteString("// Each choice names the file it came from. `pitlane doctor` checks the repository\n")
	b.WriteString("// against it; `pitlane config . --generate --write` writes it anew.\n")
	b.WriteString("{\n")
	name := g.opts.Name
	if name == "" {
		name = "workspace"
	}
	writeField(&b, 1, "name", name+" (detected)", nil)
	b.WriteString("  \"build\": {\n")
	b.WriteString("    \"dockerfile\": \"" + DockerfileFile + "\",\n")
	b.WriteString("    \"context\": \".\"\n")
	b.WriteString("  },\n")
	if len(g.r.Ports) > 0 {
		var ports []string
		for _, p := range g.r.Ports {
			b.WriteString(fmt.Sprintf("  // Port %d: %s\n", p.Port, p.Evidence))
			ports = append(ports, strconv.Itoa(p.Port))
		}
		b.WriteString("  \"forwardPorts\": [" + strings.Join(ports, ", ") + "],\n")
	}
	if len(g.env) > 0 {
		b.WriteString("  \"containerEnv\": {\n")
		for i, e := range g.env {
			if g.envNotes[i] != "" {
				b.WriteString(commentLines("    // ", g.envNotes[i]))
			}
			v, _ := json.Marshal(e[1])
			k, _ := json.Marshal(e[0])
			sep := ","
			if i == len(g.env)-1 {
				sep = ""
			}
			fmt.Fprintf(&b, "    %s: %s%s\n", k, v, sep)
		}
		b.WriteString("  },\n")
	}
	var installs []string
	var installNotes []string
	for _, s := range g.r.Stacks {
		if s.Install == nil {
			continue
		}
		c := s.Install.Run
		if s.Dir != "." {
			c = "(cd " + shellQuote(s.Dir) + " && " + c + ")"
		}
		installs = append(installs, c)
		installNotes = append(installNotes, fmt.Sprintf("%s: %s", c, s.Install.Evidence))
	}
	if len(installs) > 0 {
		b.WriteString("  // The project's dependencies:\n")
		for _, n := range installNotes {
			b.WriteString(commentLines("  //   ", n))
		}
		writeField(&b, 1, "postCreateCommand", strings.Join(installs, " && "), nil)
	}
	if len(g.svcScript) > 0 {
		b.WriteString("  // Services: " + strings.Join(g.svcSummary, ", ") + " (see " + ServicesFile + ").\n")
		writeField(&b, 1, "postStartCommand", "sh /usr/local/share/pitlane/"+ServicesFile, nil)
	}
	b.WriteString("  \"customizations\": {\n    \"pitlane\": {\n")
	if g.r.Test != nil || g.res.Record.Test != nil {
		run, ev, _ := g.r.TestCommand()
		var evs []string
		for _, e := range ev {
			evs = append(evs, e.String())
		}
		b.WriteString(commentLines("      // ", "The test command (`pitlane test`): "+strings.Join(evs, "; ")))
		writeField(&b, 3, "test", run, nil)
	}
	b.WriteString("      // What this config was made from, for `pitlane doctor`.\n")
	rec, err := json.Marshal(g.res.Record)
	if err != nil {
		return "", err
	}
	b.WriteString("      \"detected\": " + string(rec) + "\n")
	b.WriteString("    }\n  }\n}\n")
	return b.String(), nil
}

func (g *gen) summaryText() string {
	parts := append(append([]string{}, g.summary...), g.svcSummary...)
	if len(parts) == 0 {
		return "plain Debian"
	}
	return strings.Join(parts, " + ")
}

func writeField(b *strings.Builder, indent int, key string, v any, _ []string) {
	k, _ := json.Marshal(key)
	val, _ := json.Marshal(v)
	fmt.Fprintf(b, "%s%s: %s,\n", strings.Repeat("  ", indent), k, val)
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
