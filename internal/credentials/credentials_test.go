package credentials

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/internal/agent"
)

func TestDecide(t *testing.T) {
	remotes := []string{"github.com", "127.0.0.1:8080"}
	for _, tc := range []struct {
		name   string
		p      Policy
		host   string
		allow  bool
		reason string
	}{
		{"own remote", Policy{}, "github.com", true, "own remotes"},
		{"own remote any case", Policy{}, "GitHub.com", true, ""},
		{"bare remote matches a port", Policy{}, "github.com:443", true, ""},
		{"remote with port needs that port", Policy{}, "127.0.0.1:9090", false, "not one of its own remotes"},
		{"other host", Policy{}, "evil.test", false, "pitlane credentials allow ws evil.test"},
		{"allowed by the user", Policy{Allow: []string{"evil.test"}}, "evil.test", true, "allowed by you"},
		{"any", Policy{Allow: []string{Any}}, "whatever.test", true, ""},
		{"denied remote", Policy{Deny: []string{"github.com"}}, "github.com", false, "denied"},
		{"off", Policy{Deny: []string{Any}, Allow: []string{Any}}, "github.com", false, "off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.p.Decide("ws", tc.host, remotes)
			if d.Allowed != tc.allow || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("Decide(%q) = %+v, want allowed=%v and a reason with %q", tc.host, d, tc.allow, tc.reason)
			}
		})
	}
}

func TestNormalizeHost(t *testing.T) {
	if h, err := NormalizeHost(" GitHub.com "); err != nil || h != "github.com" {
		t.Errorf("got %q %v", h, err)
	}
	for _, bad := range []string{"", "https://x", "a b", "u@h"} {
		if _, err := NormalizeHost(bad); err == nil {
			t.Errorf("NormalizeHost(%q) accepted", bad)
		}
	}
}

func TestPolicyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if p, err := LoadPolicy(dir); err != nil || len(p.Allow)+len(p.Deny) != 0 {
		t.Fatalf("missing file: %+v %v", p, err)
	}
	want := Policy{Allow: []string{"a.test"}, Deny: []string{"b.test"}}
	if err := SavePolicy(dir, want); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(dir, policyFile))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("policy mode %v", st.Mode())
	}
	got, err := LoadPolicy(dir)
	if err != nil || strings.Join(got.Allow, ",") != "a.test" || strings.Join(got.Deny, ",") != "b.test" {
		t.Fatalf("got %+v %v", got, err)
	}
}

// hostGit gives the test a HOME whose git has a credential store holding
// one entry, as a user's keychain would.
func hostGit(t *testing.T, entry string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	store := filepath.Join(home, "creds")
	os.WriteFile(store, []byte(entry+"\n"), 0o600)
	if out, err := exec.Command("git", "config", "--global", "credential.helper", "store --file "+store).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

func TestAnswerUsesTheUsersGitAndLogsNoSecret(t *testing.T) {
	hostGit(t, "https://alice:s3cret-token@git.example.test")
	dir := t.TempDir()
	s := &Server{Workspace: "ws", Dir: dir, Remotes: []string{"git.example.test"}}
	ctx := context.Background()

	a := s.Answer(ctx, agent.CredentialRequest{ID: 7, Fields: map[string]string{"protocol": "https", "host": "git.example.test"}})
	if a.ID != 7 || a.Fields["username"] != "alice" || a.Fields["password"] != "s3cret-token" || a.Refused != "" {
		t.Fatalf("own remote: %+v", a)
	}
	a = s.Answer(ctx, agent.CredentialRequest{Fields: map[string]string{"protocol": "https", "host": "other.example.test"}})
	if len(a.Fields) != 0 || !strings.Contains(a.Refused, "pitlane credentials allow ws other.example.test") {
		t.Fatalf("other host: %+v", a)
	}
	// Allowed, but the user's git has nothing: no prompt, no answer.
	SavePolicy(dir, Policy{Allow: []string{"empty.example.test"}})
	a = s.Answer(ctx, agent.CredentialRequest{Fields: map[string]string{"protocol": "https", "host": "empty.example.test"}})
	if len(a.Fields) != 0 || a.Refused != "" {
		t.Fatalf("host without a credential: %+v", a)
	}
	a = s.Answer(ctx, agent.CredentialRequest{Fields: map[string]string{"protocol": "https", "host": "git.example.test\nhost=x"}})
	if len(a.Fields) != 0 || a.Refused == "" {
		t.Fatalf("injected line: %+v", a)
	}
	a = s.Answer(ctx, agent.CredentialRequest{Fields: map[string]string{"protocol": "cert", "host": "git.example.test"}})
	if len(a.Fields) != 0 || a.Refused == "" {
		t.Fatalf("cert protocol: %+v", a)
	}

	raw, err := os.ReadFile(filepath.Join(dir, logFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "s3cret") || strings.Contains(string(raw), "alice") {
		t.Fatalf("the log holds the credential:\n%s", raw)
	}
	st, _ := os.Stat(filepath.Join(dir, logFile))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("log mode %v", st.Mode())
	}
	entries, err := ReadLog(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Host+" "+e.Outcome)
	}
	want := "git.example.test answered|other.example.test refused|empty.example.test none|git.example.test\nhost=x refused|git.example.test refused"
	if strings.Join(got, "|") != want {
		t.Fatalf("log:\n%q\nwant\n%q", strings.Join(got, "|"), want)
	}
	if last, _ := ReadLog(dir, 2); len(last) != 2 || last[1].Protocol != "cert" {
		t.Fatalf("last two: %+v", last)
	}
}

// A workspace can write its own repository's git config (the folder is
// mounted); the host's git must not run a helper named there.
func TestFillIgnoresTheCurrentRepository(t *testing.T) {
	hostGit(t, "https://alice:pw@git.example.test")
	repo := t.TempDir()
	marker := filepath.Join(t.TempDir(), "ran")
	// An empty value first drops the user's helpers, so the
	// repository's would be the only one.
	for _, args := range [][]string{
		{"init", "-q", repo},
		{"-C", repo, "config", "credential.helper", ""},
		{"-C", repo, "config", "--add", "credential.helper", "!touch " + marker + "; echo password=evil; true"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	wd, _ := os.Getwd()
	os.Chdir(repo)
	defer os.Chdir(wd)
	t.Setenv("GIT_DIR", filepath.Join(repo, ".git"))
	got, err := GitFill(context.Background(), map[string]string{"protocol": "https", "host": "git.example.test"})
	if err != nil || got["password"] != "pw" {
		t.Fatalf("got %v %v", got, err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a helper from the repository's own config ran on the host")
	}
}

func TestServeAnswersRelayLines(t *testing.T) {
	dir := t.TempDir()
	s := &Server{Workspace: "ws", Dir: dir, Remotes: []string{"h.test"}, Fill: func(_ context.Context, f map[string]string) (map[string]string, error) {
		return map[string]string{"username": "u", "password": "p"}, nil
	}}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), inR, outW, func() { close(ready) }); outW.Close() }()
	io.WriteString(inW, agent.RelayReady+"\n")
	<-ready
	io.WriteString(inW, `{"id":3,"fields":{"protocol":"https","host":"h.test"}}`+"\n")
	line, err := bufio.NewReader(outR).ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	var a agent.CredentialAnswer
	json.Unmarshal(line, &a)
	if a.ID != 3 || a.Fields["password"] != "p" {
		t.Fatalf("answer %s", line)
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
