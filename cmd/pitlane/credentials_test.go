package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/testenv"
)

// gitServer is a loopback git server over HTTP (git's own http-backend
// through CGI) that wants basic auth for everything.
type gitServer struct {
	root    string // GIT_PROJECT_ROOT
	port    int
	refused atomic.Int32 // requests turned away for want of credentials
}

func newGitServer(t *testing.T, user, password string) *gitServer {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	s := &gitServer{root: t.TempDir()}
	cgiH := &cgi.Handler{Path: backend, Root: "/", Env: []string{"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1"}}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			s.refused.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="pitlane test"`)
			http.Error(w, "credentials, please", http.StatusUnauthorized)
			return
		}
		cgiH.ServeHTTP(w, r)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// repo makes a bare repository that accepts pushes, with one commit of
// files.
func (s *gitServer) repo(t *testing.T, name string, files map[string]string) string {
	t.Helper()
	bare := filepath.Join(s.root, name)
	work := t.TempDir()
	mustGit(t, "", "init", "-q", "--bare", bare)
	mustGit(t, "", "-C", bare, "config", "http.receivepack", "true")
	mustGit(t, "", "init", "-q", "-b", "main", work)
	os.WriteFile(filepath.Join(work, "README"), []byte("hello\n"), 0o644)
	for n, body := range files {
		os.WriteFile(filepath.Join(work, n), []byte(body), 0o644)
	}
	mustGit(t, "", "-C", work, "add", ".")
	mustGit(t, "", "-C", work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
	mustGit(t, "", "-C", work, "push", "-q", bare, "main")
	mustGit(t, "", "-C", bare, "symbolic-ref", "HEAD", "refs/heads/main")
	return bare
}

func mustGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// reverseForward keeps `ssh -R` open so that 127.0.0.1:port in the
// workspace reaches 127.0.0.1:port here, and waits until it does.
func (c *cli) reverseForward(t *testing.T, name string, port int) {
	t.Helper()
	cfg := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "pitlane", "ssh_config")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "ssh", "-F", cfg, "-N", "-o", "ExitOnForwardFailure=yes",
		"-R", fmt.Sprintf("127.0.0.1:%d:127.0.0.1:%d", port, port), name+".pitlane")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if _, _, code := c.run("exec", name, "--", "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d", port)); code == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the forwarded port %d never answered in the workspace: %s", port, errb.String())
}

// TestCredentialsForwarded is the whole story of git credentials: the
// user's own git on this machine answers git in the workspace, for the
// workspace's own host only unless the user allows more, through exec and
// SSH alike; a push through a forwarded port is refused without the
// credentials and accepted with them; the secrets appear in no file in
// the container, no label and no Pitlane file. It also checks the copied
// identity and the --env values, which ride on the same workspace.
func TestCredentialsForwarded(t *testing.T) {
	c := newCLI(t)
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no OpenSSH client")
	}
	const (
		exampleSecret = "example-token-7f3a9c"
		serverSecret  = "server-token-2b8e41"
		envSecret     = "env-value-5d1c0e"
	)
	srv := newGitServer(t, "ada", serverSecret)
	// The setup hook asks for a credential too, and notes only whether
	// it got one.
	srv.repo(t, "app.git", map[string]string{".devcontainer.json": `{"image": "pitlane/base:bookworm",
		"postCreateCommand": "printf 'protocol=https\\nhost=git.example.test\\n\\n' | git credential fill | grep -c '^password=' > /tmp/hook-got-password; echo $FROM_FLAG > /tmp/hook-env"}`})
	home := os.Getenv("HOME")
	os.MkdirAll(home, 0o755)
	store := filepath.Join(home, "git-credentials")
	os.WriteFile(store, []byte(fmt.Sprintf("https://ada:%s@git.example.test\nhttp://ada:%s@127.0.0.1:%d\n", exampleSecret, serverSecret, srv.port)), 0o600)
	serverURL := fmt.Sprintf("http://127.0.0.1:%d/app.git", srv.port)
	for _, kv := range [][2]string{
		{"credential.helper", "store --file " + store},
		{"user.name", "Ada Lovelace"},
		{"user.email", "ada@example.test"},
		// The workspace's source is git.example.test; this machine reaches
		// it at the loopback server.
		{"url." + serverURL + ".insteadOf", "https://git.example.test/org/app.git"},
	} {
		mustGit(t, "", "config", "--global", kv[0], kv[1])
	}
	envFile := filepath.Join(t.TempDir(), "env")
	os.WriteFile(envFile, []byte("# for the test\nFROM_FILE="+envSecret+"\nSHARED=file\n"), 0o600)
	name := "creds-" + testenv.ID()

	out, errOut, code := c.run("create", "https://git.example.test/org/app.git", "--name", name,
		"--env-file", envFile, "--env", "SHARED=flag", "--env", "FROM_FLAG=yes")
	if code != 0 {
		t.Fatalf("create: %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "Copied from your git config: user.name, user.email") {
		t.Errorf("create does not say what it copied:\n%s", errOut)
	}
	fill := func(how, host string) (string, string) {
		script := fmt.Sprintf(`printf 'protocol=https\nhost=%s\n\n' | GIT_TERMINAL_PROMPT=0 git credential fill`, host)
		if how == "ssh" {
			cmd := exec.Command("ssh", "-F", filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "pitlane", "ssh_config"), name+".pitlane", script)
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			cmd.Run()
			return o.String(), e.String()
		}
		o, e, _ := c.run("exec", name, "--", "sh", "-c", script)
		return o, e
	}

	t.Run("fill", func(t *testing.T) {
		for _, how := range []string{"exec", "ssh"} {
			got, _ := fill(how, "git.example.test")
			if !strings.Contains(got, "username=ada\npassword="+exampleSecret+"\n") {
				t.Errorf("%s: the workspace's own host: %q", how, got)
			}
			got, errOut := fill(how, "other.example.test")
			if strings.Contains(got, "password=") || !strings.Contains(errOut, "pitlane credentials allow "+name+" other.example.test") {
				t.Errorf("%s: another host got %q, stderr %q", how, got, errOut)
			}
		}
	})

	t.Run("hook", func(t *testing.T) {
		if out, errOut, _ := c.run("exec", name, "--", "cat", "/tmp/hook-got-password"); out != "1\n" {
			t.Errorf("postCreateCommand got no credential: %q %s", out, errOut)
		}
		if out, _, _ := c.run("exec", name, "--", "cat", "/tmp/hook-env"); out != "yes\n" {
			t.Errorf("postCreateCommand saw FROM_FLAG=%q, want yes", out)
		}
	})

	t.Run("identity", func(t *testing.T) {
		out, errOut, code := c.run("exec", name, "--", "sh", "-c", "git commit -q --allow-empty -m from-the-workspace && git log -1 --format=%an/%ae")
		if code != 0 || out != "Ada Lovelace/ada@example.test\n" {
			t.Errorf("commit in the workspace: %d %q %s", code, out, errOut)
		}
	})

	t.Run("env", func(t *testing.T) {
		want := "FROM_FILE=" + envSecret + " SHARED=flag FROM_FLAG=yes\n"
		script := `echo "FROM_FILE=$FROM_FILE SHARED=$SHARED FROM_FLAG=$FROM_FLAG"`
		if out, _, _ := c.run("exec", name, "--", "sh", "-c", script); out != want {
			t.Errorf("exec sees %q, want %q", out, want)
		}
		cmd := exec.Command("ssh", "-F", filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "pitlane", "ssh_config"), name+".pitlane", script)
		if out, err := cmd.Output(); string(out) != want {
			t.Errorf("ssh sees %q (%v), want %q", out, err, want)
		}
	})

	t.Run("push", func(t *testing.T) {
		c.reverseForward(t, name, srv.port)
		// In the workspace the same server is reached through the
		// forwarded port: a host that is not the workspace's own.
		if _, errOut, code := c.run("exec", name, "--", "git", "config", "--global", "url."+serverURL+".insteadOf", "https://git.example.test/org/app.git"); code != 0 {
			t.Fatal(errOut)
		}
		push := func() (int, string) {
			_, errOut, code := c.run("exec", name, "--", "sh", "-c", "GIT_TERMINAL_PROMPT=0 git push -q origin HEAD:refs/heads/pushed 2>&1 >/dev/null; exit $?")
			return code, errOut
		}
		before := srv.refused.Load()
		if code, errOut := push(); code == 0 {
			t.Fatalf("a push without forwarded credentials went through: %s", errOut)
		}
		if srv.refused.Load() == before {
			t.Error("the server never refused the push: the test proves nothing")
		}
		if out, errOut, code := c.run("credentials", "allow", name, fmt.Sprintf("127.0.0.1:%d", srv.port)); code != 0 || !strings.Contains(out, fmt.Sprintf("127.0.0.1:%d", srv.port)) {
			t.Fatalf("credentials allow: %d %s %s", code, out, errOut)
		}
		if code, errOut := push(); code != 0 {
			t.Fatalf("push with forwarded credentials: %d %s", code, errOut)
		}
		got := mustGit(t, "", "--git-dir", filepath.Join(srv.root, "app.git"), "log", "-1", "--format=%s %an", "pushed")
		if got != "from-the-workspace Ada Lovelace\n" {
			t.Errorf("the server has %q on the pushed branch", got)
		}
	})

	t.Run("log and policy", func(t *testing.T) {
		out, _, code := c.run("credentials", name, "--json")
		var v credentialsView
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
			t.Fatalf("credentials --json: %d %s", code, out)
		}
		if strings.Join(v.RemoteHosts, ",") != "git.example.test" || v.Forwarding != "own hosts" {
			t.Errorf("policy %+v", v)
		}
		outcomes := map[string]bool{}
		for _, e := range v.Answers {
			outcomes[e.Host+" "+e.Outcome] = true
		}
		for _, want := range []string{"git.example.test answered", "other.example.test refused", fmt.Sprintf("127.0.0.1:%d refused", srv.port), fmt.Sprintf("127.0.0.1:%d answered", srv.port)} {
			if !outcomes[want] {
				t.Errorf("the log lacks %q: %v", want, outcomes)
			}
		}
		if _, _, code := c.run("credentials", "deny", name, "*"); code != 0 {
			t.Fatal("deny *")
		}
		if got, errOut := fill("exec", "git.example.test"); strings.Contains(got, "password=") || !strings.Contains(errOut, "off") {
			t.Errorf("with forwarding off: %q %q", got, errOut)
		}
		c.run("credentials", "reset", name)
		if got, _ := fill("exec", "git.example.test"); !strings.Contains(got, "password=") {
			t.Errorf("after reset: %q", got)
		}
	})

	t.Run("no secret at rest", func(t *testing.T) {
		secrets := []string{exampleSecret, serverSecret, envSecret}
		// Every file in the container, as root.
		grep := "grep -rlsF -e " + strings.Join(secrets, " -e ") + " / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev; true"
		ws := containerOf(t, c, name)
		found, err := exec.Command("docker", "exec", "-u", "root", ws, "sh", "-c", grep).Output()
		if err != nil || len(bytes.TrimSpace(found)) > 0 {
			t.Errorf("files in the container hold a secret (%v): %s", err, found)
		}
		inspect, _ := exec.Command("docker", "inspect", ws).Output()
		for _, s := range secrets {
			if bytes.Contains(inspect, []byte(s)) {
				t.Errorf("docker inspect shows %s", s)
			}
		}
		// Pitlane's own files: logs, markers, the credential log.
		for _, dir := range []string{os.Getenv("XDG_DATA_HOME"), os.Getenv("XDG_CONFIG_HOME")} {
			filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return nil
				}
				b, _ := os.ReadFile(path)
				for _, s := range []string{exampleSecret, serverSecret} {
					if bytes.Contains(b, []byte(s)) {
						t.Errorf("%s holds a credential", path)
					}
				}
				if bytes.Contains(b, []byte(envSecret)) {
					st, _ := os.Stat(path)
					if filepath.Base(path) != "personal.json" || st.Mode().Perm() != 0o600 {
						t.Errorf("%s (mode %v) holds an --env value", path, st.Mode().Perm())
					}
				}
				return nil
			})
		}
		logs, _, _ := c.run("logs", name)
		if strings.Contains(logs, envSecret) {
			t.Error("pitlane logs shows an --env value")
		}
	})

	t.Run("after restart", func(t *testing.T) {
		for _, verb := range []string{"stop", "start"} {
			if _, errOut, code := c.run(verb, name); code != 0 {
				t.Fatalf("%s: %s", verb, errOut)
			}
		}
		if got, _ := fill("ssh", "git.example.test"); !strings.Contains(got, "password="+exampleSecret) {
			t.Errorf("after a restart: %q", got)
		}
		// A rebuild makes a new container and sets it up again.
		if _, errOut, code := c.run("rebuild", name); code != 0 {
			t.Fatalf("rebuild: %s", errOut)
		}
		if got, _ := fill("exec", "git.example.test"); !strings.Contains(got, "password="+exampleSecret) {
			t.Errorf("after a rebuild: %q", got)
		}
		if out, _, _ := c.run("exec", name, "--", "sh", "-c", `echo "$FROM_FLAG $(git config user.email)"`); out != "yes ada@example.test\n" {
			t.Errorf("after a rebuild, env and identity: %q", out)
		}
	})
}

// containerOf returns the container ID of a workspace.
func containerOf(t *testing.T, c *cli, name string) string {
	t.Helper()
	out, _, code := c.run("list", "--json")
	var wss []struct{ Name, ContainerID string }
	if code != 0 || json.Unmarshal([]byte(out), &wss) != nil {
		t.Fatalf("list: %s", out)
	}
	for _, ws := range wss {
		if ws.Name == name {
			return ws.ContainerID
		}
	}
	t.Fatalf("no workspace %s in %s", name, out)
	return ""
}
