package corpus_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/detect"
	"github.com/pitlane/pitlane/internal/devcontainer/generate"
	"github.com/pitlane/pitlane/internal/testenv"
	"github.com/pitlane/pitlane/internal/workspace"
)

// corpusProject is one project of testdata/detect and what creating it
// without a config must give.
type corpusProject struct {
	dir     string
	stack   string // for the report
	summary string // the detected setup's summary
	kind    workspace.ConfigKind
	// family names the projects that share image layers: the first of a
	// family builds alone, the others after it, so they reuse its layers.
	family string
	// warnings is how many versions cannot be installed exactly.
	warnings int
	// gap, when set, says why the project may fail on some machines for
	// reasons outside Pitlane; a failure is then reported, counted in the
	// pass rate, and does not fail the test.
	gap string
}

var corpus = []corpusProject{
	{dir: "go-modproxy", stack: "go", summary: "Go 1.24", kind: workspace.KindDetected, family: "go"},
	{dir: "go-postgres", stack: "go", summary: "Go 1.24 + PostgreSQL", kind: workspace.KindDetected, family: "go"},
	{dir: "go-debian", stack: "go", summary: "Go 1.19", kind: workspace.KindDetected, family: "go"},
	{dir: "node-npm", stack: "node", summary: "Node 20", kind: workspace.KindDetected, family: "node"},
	{dir: "node-yarn", stack: "node", summary: "Node 20", kind: workspace.KindDetected, family: "node"},
	{dir: "node-pnpm", stack: "node", summary: "Node 22", kind: workspace.KindDetected, family: "node"},
	{dir: "python-pip", stack: "python", summary: "Python 3.11", kind: workspace.KindDetected, family: "python"},
	{dir: "python-poetry", stack: "python", summary: "Python 3.11", kind: workspace.KindDetected, family: "python", warnings: 1,
		gap: "Poetry reads each release's JSON from PyPI (/pypi/NAME/VERSION/json); a PyPI mirror that serves only the simple index answers 404"},
	{dir: "python-uv", stack: "python", summary: "Python 3.11", kind: workspace.KindDetected, family: "python"},
	{dir: "rust-cargo", stack: "rust", summary: "Rust 1.85", kind: workspace.KindDetected, family: "rust"},
	{dir: "java-maven", stack: "java", summary: "Java 17", kind: workspace.KindDetected, family: "maven"},
	{dir: "java-gradle", stack: "java", summary: "Java 17", kind: workspace.KindDetected, family: "gradle"},
	{dir: "ruby-rake", stack: "ruby", summary: "Ruby 3.1", kind: workspace.KindDetected, family: "ruby"},
	{dir: "monorepo", stack: "monorepo", summary: "Go 1.24 + Node 20", kind: workspace.KindDetected, family: "go"},
	{dir: "no-stack", stack: "none", kind: workspace.KindDefault, family: "none"},
}

// corpusResult is what happened to one project.
type corpusResult struct {
	p       corpusProject
	ready   time.Duration
	tests   time.Duration
	passed  bool
	problem string
	// retried is the first try's problem when the project ran twice.
	retried string
}

// TestDetectCorpus creates a workspace from each project of
// testdata/detect, none of which has a devcontainer.json, and runs the
// project's own tests inside it with the test command Pitlane found. It
// reports the pass rate and the time to ready per stack.
//
// Projects of one family share image layers, so the first of each family
// builds first (several creates at once, PITLANE_CORPUS_PARALLEL, default
// 4) and the rest follow; tests run as soon as their workspace is ready. PITLANE_CORPUS=dir1,dir2 runs some projects only.
func TestDetectCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus builds an image per project: not in -short")
	}
	d := testenv.Docker(t)
	inst := testenv.Isolate(t)
	m := workspace.NewManager(d, workspace.Options{})
	testenv.RemoveInstance(t, d, inst)
	// Each workspace is deleted on its own first (container, image, data),
	// with time enough for a loaded machine; RemoveInstance catches the rest.
	var names sync.Map
	t.Cleanup(func() {
		names.Range(func(k, _ any) bool {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if err := m.Delete(ctx, k.(string), workspace.DeleteOptions{DiscardChanges: true}); err != nil {
				t.Logf("deleting %s: %v", k, err)
			}
			return true
		})
	})
	root, err := filepath.Abs("../../../testdata/detect")
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 12 {
		t.Fatalf("testdata/detect has %d projects; the corpus needs at least 12", len(dirs))
	}
	known := map[string]bool{}
	for _, p := range corpus {
		known[p.dir] = true
	}
	for _, d := range dirs {
		if !known[d.Name()] {
			t.Errorf("testdata/detect/%s is not in the corpus table", d.Name())
		}
	}
	only := map[string]bool{}
	if s := os.Getenv("PITLANE_CORPUS"); s != "" {
		for _, d := range strings.Split(s, ",") {
			only[strings.TrimSpace(d)] = true
		}
	}
	parallel := 4
	if s := os.Getenv("PITLANE_CORPUS_PARALLEL"); s != "" {
		fmt.Sscan(s, &parallel)
	}

	sem := make(chan struct{}, parallel)
	built := map[string]chan struct{}{}
	var mu sync.Mutex
	var results []corpusResult
	var wg sync.WaitGroup
	started := time.Now()
	for _, p := range corpus {
		if len(only) > 0 && !only[p.dir] {
			continue
		}
		leaderDone, follower := built[p.family]
		done := make(chan struct{})
		if !follower {
			built[p.family] = done
		}
		wg.Add(1)
		go func(p corpusProject, after chan struct{}, done chan struct{}) {
			defer wg.Done()
			if after != nil {
				<-after
			}
			names.Store(corpusName(p), true)
			r := runCorpusProject(t, m, root, p, sem, done)
			if !r.passed {
				// The registries are reached over the network, which can
				// fail for a moment (a name that does not resolve); one
				// more try tells that apart from a route that does not work.
				first := r.problem
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
				_ = m.Delete(ctx, corpusName(p), workspace.DeleteOptions{DiscardChanges: true})
				cancel()
				r = runCorpusProject(t, m, root, p, sem, make(chan struct{}))
				r.retried = first
			}
			t.Logf("%s: passed=%v ready=%s tests=%s retried=%v %s", p.dir, r.passed, r.ready.Round(time.Second), r.tests.Round(time.Second), r.retried != "", lastLines(r.problem, 8))
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
		}(p, leaderDone, done)
	}
	wg.Wait()
	t.Logf("corpus: %d projects in %s (%d at once)", len(results), time.Since(started).Round(time.Second), parallel)
	reportCorpus(t, results)
	for _, r := range results {
		if r.retried != "" {
			t.Logf("%s was tried twice; the first try: %s", r.p.dir, lastLines(r.retried, 15))
		}
		switch {
		case r.passed:
		case r.p.gap != "":
			t.Logf("%s failed, a known gap (%s): %s", r.p.dir, r.p.gap, r.problem)
		default:
			t.Errorf("%s: %s", r.p.dir, r.problem)
		}
	}
}

// runCorpusProject creates one project's workspace from a copy of it
// (holding a place in sem meanwhile), checks what was detected and runs
// its tests. done is closed once its image is built (or the create
// failed).
func runCorpusProject(t *testing.T, m *workspace.Manager, root string, p corpusProject, sem chan struct{}, done chan struct{}) corpusResult {
	res := corpusResult{p: p}
	closeDone := sync.OnceFunc(func() { close(done) })
	defer closeDone()
	sem <- struct{}{}
	release := sync.OnceFunc(func() { <-sem })
	defer release()
	src := filepath.Join(t.TempDir(), p.dir)
	if err := copyTree(filepath.Join(root, p.dir), src); err != nil {
		res.problem = err.Error()
		return res
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	name := corpusName(p)
	var log logLines
	start := time.Now()
	ws, err := m.Create(ctx, workspace.CreateOptions{Source: src, Name: name, Progress: &log})
	res.ready = time.Since(start)
	release()
	closeDone()
	if err != nil {
		res.problem = fmt.Sprintf("create failed after %s: %v\n%s", res.ready.Round(time.Second), err, log.tail(40))
		return res
	}
	if ws.ConfigKind != p.kind {
		res.problem = fmt.Sprintf("config kind %q, want %q", ws.ConfigKind, p.kind)
		return res
	}
	if p.kind != workspace.KindDetected {
		res.passed = true
		return res
	}
	if want := "using a detected " + p.summary + " setup"; !log.has(want) {
		res.problem = fmt.Sprintf("create did not say %q:\n%s", want, log.tail(20))
		return res
	}
	d, err := m.Detect(ctx, src)
	if err != nil || d.Generated == nil {
		res.problem = fmt.Sprintf("detect: %v", err)
		return res
	}
	if n := len(d.Generated.Warnings); n != p.warnings {
		res.problem = fmt.Sprintf("%d warnings, want %d: %q", n, p.warnings, d.Generated.Warnings)
		return res
	}
	for _, w := range d.Generated.Warnings {
		if !log.has("warning: " + w) {
			res.problem = fmt.Sprintf("create did not print the warning %q", w)
			return res
		}
	}
	cfg, err := m.DevcontainerConfig(ctx, name)
	if err != nil {
		res.problem = err.Error()
		return res
	}
	run := generate.Customizations(cfg).Test
	if run == "" {
		res.problem = "the generated config names no test command"
		return res
	}
	var out strings.Builder
	start = time.Now()
	code, err := m.Exec(ctx, name, workspace.ExecOptions{Cmd: []string{"/bin/sh", "-c", run}, Stdout: &out, Stderr: &out})
	res.tests = time.Since(start)
	switch {
	case err != nil:
		res.problem = fmt.Sprintf("running %q: %v", run, err)
	case code != 0:
		res.problem = fmt.Sprintf("%q exited %d:\n%s", run, code, lastLines(out.String(), 30))
	default:
		res.passed = true
	}
	// Workspaces stay until the test ends (the instance's containers and
	// images go then): an image removed now could take the layers the rest
	// of its family is about to reuse.
	return res
}

// corpusName is the workspace name of a project in this test process.
func corpusName(p corpusProject) string {
	return fmt.Sprintf("corpus-%s-%d", p.dir, os.Getpid()%100000)
}

func reportCorpus(t *testing.T, results []corpusResult) {
	byStack := map[string][]corpusResult{}
	for _, r := range results {
		byStack[r.p.stack] = append(byStack[r.p.stack], r)
	}
	stacks := make([]string, 0, len(byStack))
	for s := range byStack {
		stacks = append(stacks, s)
	}
	sort.Strings(stacks)
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %-7s %-10s %-10s %s\n", "stack", "passed", "ready p50", "ready max", "projects (ready / tests)")
	total, passed := 0, 0
	for _, s := range stacks {
		rs := byStack[s]
		var ready []time.Duration
		n := 0
		var names []string
		for _, r := range rs {
			ready = append(ready, r.ready)
			if r.passed {
				n++
			}
			mark := ""
			if r.retried != "" {
				mark = " (2nd try)"
			}
			if !r.passed {
				mark += " FAILED"
			}
			names = append(names, fmt.Sprintf("%s %s/%s%s", r.p.dir, r.ready.Round(time.Second), r.tests.Round(time.Second), mark))
		}
		sort.Slice(ready, func(i, j int) bool { return ready[i] < ready[j] })
		fmt.Fprintf(&b, "%-9s %d/%-5d %-10s %-10s %s\n", s, n, len(rs), ready[(len(ready)-1)/2].Round(time.Second), ready[len(ready)-1].Round(time.Second), strings.Join(names, ", "))
		total += len(rs)
		passed += n
	}
	fmt.Fprintf(&b, "pass rate: %d/%d", passed, total)
	t.Logf("corpus results:\n%s", b.String())
	if p := os.Getenv("PITLANE_CORPUS_REPORT"); p != "" {
		_ = os.WriteFile(p, []byte(b.String()+"\n"), 0o644)
	}
}

// TestDetectCorpusFindings checks what the detector finds in each corpus
// project, without Docker: the summary the corpus test expects.
func TestDetectCorpusFindings(t *testing.T) {
	for _, p := range corpus {
		if p.kind != workspace.KindDetected {
			continue
		}
		t.Run(p.dir, func(t *testing.T) {
			rep, err := detect.Dir(filepath.Join("../../../testdata/detect", p.dir))
			if err != nil {
				t.Fatal(err)
			}
			res, err := generate.Generate(rep, generate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Summary != p.summary || len(res.Warnings) != p.warnings || res.Test == "" {
				t.Errorf("summary %q, %d warnings, test %q; want %q, %d warnings and a test command", res.Summary, len(res.Warnings), res.Test, p.summary, p.warnings)
			}
		})
	}
}

// logLines is a Progress that keeps the output.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Step(s string) { l.Output("==> " + s) }
func (l *logLines) Output(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *logLines) has(sub string) bool { return l.count(sub) > 0 }

func (l *logLines) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

func (l *logLines) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return lastLines(strings.Join(l.lines, "\n"), n)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// copyTree copies a folder, so builds never write into the repository.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
