package bridge_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/pitlane/pitlane/bridge"
)

// startInProcess serves a bridge on pipes in this process.
func startInProcess(t testing.TB, opts bridge.Options) *transport {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	if opts.Logger == nil && testing.Verbose() {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	code := make(chan int, 1)
	go func() {
		c := bridge.New(opts).Serve(context.Background(), inR, outW)
		outW.Close()
		code <- c
	}()
	tr := &transport{in: inW, msgs: readMessages(outR)}
	done := false
	var exit int
	tr.wait = func() int {
		if !done {
			exit, done = <-code, true
		}
		return exit
	}
	t.Cleanup(func() {
		inW.Close()
		tr.wait()
	})
	return tr
}

// writeSources makes the folders the transcripts' SOURCE and SLOW_SOURCE
// name: a devcontainer.json on the base image, and a Dockerfile whose
// build takes long enough to be cancelled.
func writeSources(t testing.TB) (source, slow string) {
	t.Helper()
	dir := t.TempDir()
	source = filepath.Join(dir, "src")
	slow = filepath.Join(dir, "slow-src")
	must(t, os.MkdirAll(filepath.Join(source, ".devcontainer"), 0o755))
	must(t, os.WriteFile(filepath.Join(source, ".devcontainer", "devcontainer.json"),
		[]byte(`{"image": "pitlane/base:bookworm", "postCreateCommand": "echo ready"}`+"\n"), 0o644))
	must(t, os.MkdirAll(slow, 0o755))
	must(t, os.WriteFile(filepath.Join(slow, "Dockerfile"),
		[]byte("FROM pitlane/base:bookworm\nRUN echo building && : "+uniqueName("cache")+" && sleep 120\n"), 0o644))
	return source, slow
}

// transcriptVars are the variables every transcript may use: those of
// writeSources and DETECT_SOURCE, a Go module with no container config.
func transcriptVars(t testing.TB, name string) map[string]string {
	source, slow := writeSources(t)
	detect := filepath.Join(filepath.Dir(source), "detect-src")
	must(t, os.MkdirAll(detect, 0o755))
	must(t, os.WriteFile(filepath.Join(detect, "go.mod"), []byte("module example.com/detect\n\ngo 1.24.2\n"), 0o644))
	return map[string]string{"NAME": name, "SOURCE": source, "SLOW_SOURCE": slow, "DETECT_SOURCE": detect}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestTranscriptsFake replays every transcript in process against the
// in-memory engine.
func TestTranscriptsFake(t *testing.T) {
	for _, name := range transcriptNames(t) {
		t.Run(name, func(t *testing.T) {
			vars := transcriptVars(t, "demo")
			tr := startInProcess(t, bridge.Options{Manager: newFakeManager(t.TempDir()), Ports: newFakePorts(), Version: "test"})
			runTranscript(t, name, tr, vars)
		})
	}
}
