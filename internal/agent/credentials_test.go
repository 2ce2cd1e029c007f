package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeHost answers a relay's requests the way the host would, counting
// the questions it sees.
type fakeHost struct {
	answer func(CredentialRequest) CredentialAnswer
	asked  atomic.Int32
	ready  chan struct{}
}

// startRelay runs a relay at a socket under root, served by h. The
// returned function ends the host's side and waits for the relay.
func startRelay(t *testing.T, root, nonce string, h *fakeHost) (string, func()) {
	t.Helper()
	sock := filepath.Join(root, nonce, "socket")
	toRelay, hostOut := io.Pipe()
	relayOut, fromRelay := io.Pipe()
	h.ready = make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Relay(sock, toRelay, fromRelay)
		fromRelay.Close()
	}()
	go func() {
		sc := bufio.NewScanner(relayOut)
		for sc.Scan() {
			if sc.Text() == RelayReady {
				close(h.ready)
				continue
			}
			var req CredentialRequest
			if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
				t.Errorf("relay sent %q: %v", sc.Text(), err)
				continue
			}
			h.asked.Add(1)
			a := h.answer(req)
			a.ID = req.ID
			b, _ := json.Marshal(a)
			hostOut.Write(append(b, '\n'))
		}
	}()
	select {
	case <-h.ready:
	case err := <-done:
		t.Fatalf("relay ended before it was ready: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("relay did not get ready")
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			hostOut.Close()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Error("relay did not end after the host let go")
			}
		})
	}
	t.Cleanup(stop)
	return sock, stop
}

func shortRoot(t *testing.T) string {
	t.Helper()
	// Unix socket paths are short; t.TempDir() may be too deep.
	dir, err := os.MkdirTemp("", "plcred")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	old := relayRoot
	relayRoot = dir
	t.Cleanup(func() { relayRoot = old })
	return dir
}

func gitCredential(t *testing.T, action, input string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code := GitCredential(ctx, action, strings.NewReader(input), &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	return out.String(), errb.String()
}

func TestGitCredentialGetsTheHostsAnswer(t *testing.T) {
	root := shortRoot(t)
	h := &fakeHost{answer: func(r CredentialRequest) CredentialAnswer {
		if r.Fields["host"] != "git.example.test" || r.Fields["protocol"] != "https" || r.Fields["path"] != "org/repo.git" {
			t.Errorf("host got %v", r.Fields)
		}
		if _, ok := r.Fields["wwwauth[]"]; ok {
			t.Errorf("an attribute outside the list reached the host: %v", r.Fields)
		}
		return CredentialAnswer{Fields: map[string]string{"username": "alice", "password": "s3cret", "oauth_refresh_token": "nope"}}
	}}
	sock, _ := startRelay(t, root, "a1", h)
	t.Setenv(CredentialsEnv, sock)
	out, errOut := gitCredential(t, "get", "protocol=https\nhost=git.example.test\npath=org/repo.git\nwwwauth[]=Basic realm=x\n\n")
	if out != "username=alice\npassword=s3cret\n" || errOut != "" {
		t.Fatalf("get printed %q, stderr %q", out, errOut)
	}
}

func TestStoreAndEraseStayLocal(t *testing.T) {
	root := shortRoot(t)
	h := &fakeHost{answer: func(CredentialRequest) CredentialAnswer { return CredentialAnswer{} }}
	sock, _ := startRelay(t, root, "b1", h)
	t.Setenv(CredentialsEnv, sock)
	for _, action := range []string{"store", "erase"} {
		out, errOut := gitCredential(t, action, "protocol=https\nhost=x\nusername=u\npassword=p\n\n")
		if out != "" || errOut != "" {
			t.Errorf("%s printed %q %q", action, out, errOut)
		}
	}
	if n := h.asked.Load(); n != 0 {
		t.Fatalf("store/erase asked the host %d times", n)
	}
}

func TestRefusalIsExplained(t *testing.T) {
	root := shortRoot(t)
	h := &fakeHost{answer: func(CredentialRequest) CredentialAnswer {
		return CredentialAnswer{Refused: "not one of its own remotes"}
	}}
	sock, _ := startRelay(t, root, "c1", h)
	t.Setenv(CredentialsEnv, sock)
	out, errOut := gitCredential(t, "get", "protocol=https\nhost=other.test\n\n")
	if out != "" || !strings.Contains(errOut, "not one of its own remotes") {
		t.Fatalf("stdout %q, stderr %q", out, errOut)
	}
}

// An editor's server keeps the socket of the connection that started it;
// once that is gone, any live relay of the workspace answers.
func TestStaleSocketFallsBackToALiveRelay(t *testing.T) {
	root := shortRoot(t)
	h := &fakeHost{answer: func(CredentialRequest) CredentialAnswer {
		return CredentialAnswer{Fields: map[string]string{"username": "u", "password": "p"}}
	}}
	startRelay(t, root, "d1", h)
	old, stop := startRelay(t, root, "d2", &fakeHost{answer: func(CredentialRequest) CredentialAnswer {
		t.Error("a closed relay was asked")
		return CredentialAnswer{}
	}})
	stop()
	if _, err := os.Stat(filepath.Dir(old)); !os.IsNotExist(err) {
		t.Fatalf("the ended relay left %s behind (%v)", filepath.Dir(old), err)
	}
	t.Setenv(CredentialsEnv, old)
	start := time.Now()
	out, _ := gitCredential(t, "get", "protocol=https\nhost=h\n\n")
	if out != "username=u\npassword=p\n" {
		t.Fatalf("got %q", out)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
}

func TestNoRelaySaysHow(t *testing.T) {
	shortRoot(t)
	t.Setenv(CredentialsEnv, "")
	out, errOut := gitCredential(t, "get", "protocol=https\nhost=h\n\n")
	if out != "" || !strings.Contains(errOut, "pitlane exec") {
		t.Fatalf("stdout %q, stderr %q", out, errOut)
	}
}

// A relay killed without cleaning up leaves a dead socket; the next relay
// removes it.
func TestStaleRelayFoldersAreRemoved(t *testing.T) {
	root := shortRoot(t)
	dead := filepath.Join(root, "dead")
	os.Mkdir(dead, 0o700)
	os.WriteFile(filepath.Join(dead, "socket"), nil, 0o600)
	startRelay(t, root, "e1", &fakeHost{answer: func(CredentialRequest) CredentialAnswer { return CredentialAnswer{} }})
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Fatalf("stale relay folder still there: %v", err)
	}
	st, err := os.Stat(filepath.Join(root, "e1"))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("relay folder: %v %v, want 0700", st.Mode(), err)
	}
}
