// Package source fetches the files a workspace is built from: a git
// repository cloned with the system git (so the user's credential helpers
// and SSH configuration apply), or a local folder used in place.
package source

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	neturl "net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// ErrInvalid is returned for a source that is neither a folder nor a git URL.
var ErrInvalid = errors.New("not a folder or a git URL")

var (
	schemeRE = regexp.MustCompile(`^(https?|ssh|git|file|git\+ssh)://`)
	// scpRE matches git's scp-like syntax: [user@]host:path.
	scpRE = regexp.MustCompile(`^([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:[^/\\]`)
)

// IsGitURL reports whether s names a git remote rather than a local folder.
func IsGitURL(s string) bool {
	if schemeRE.MatchString(s) {
		return true
	}
	if filepath.IsAbs(s) || strings.HasPrefix(s, ".") {
		return false
	}
	return scpRE.MatchString(s)
}

// LocalFolder returns the absolute, symlink-free path of a local source
// folder, or an error saying what is wrong with it.
func LocalFolder(s string) (string, error) {
	abs, err := filepath.Abs(s)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		if os.IsNotExist(err) {
			return "", fmt.Errorf("%w: %s does not exist (give a folder or a git URL such as https://host/org/repo.git)", ErrInvalid, s)
		}
		return "", err
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%w: %s is a file; give the repository's folder", ErrInvalid, s)
	}
	return filepath.EvalSymlinks(abs)
}

// BaseName derives a workspace name from a source: the last path element,
// without ".git", lowercased, with anything but letters, digits and '-'
// turned into '-'.
func BaseName(s string) string {
	s = strings.TrimRight(s, "/")
	if IsGitURL(s) {
		if i := strings.LastIndexAny(s, "/:"); i >= 0 {
			s = s[i+1:]
		}
	} else {
		s = path.Base(filepath.ToSlash(s))
	}
	s = strings.TrimSuffix(strings.ToLower(s), ".git")
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if len(name) > 63 {
		name = strings.Trim(name[:63], "-")
	}
	if name == "" {
		name = "workspace"
	}
	return name
}

// CloneError is a failed git clone, with git's own message.
type CloneError struct {
	URL    string
	Output string
	Err    error
}

func (e *CloneError) Error() string {
	msg := strings.TrimSpace(e.Output)
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("git clone %s failed:\n%s", Redact(e.URL), redactIn(msg, e.URL))
}

func (e *CloneError) Unwrap() error { return e.Err }

// Clone clones url into dest (which must not exist) with the system git,
// checking out branch if given. Progress lines go to out. The clone is made
// in a temporary sibling folder and renamed into place, so dest exists only
// when the clone is complete.
func Clone(ctx context.Context, url, branch, dest string, out func(string)) error {
	if _, err := exec.LookPath("git"); err != nil {
		return errors.New("git is not installed: install it (for example `apt-get install git`) to create workspaces from git URLs")
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".clone-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// MkdirTemp makes the folder private; the clone itself is as
	// readable as any (its parent folder keeps other users out).
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	args := []string{"clone", "--progress"}
	if branch != "" {
		args = append(args, "--branch", branch)
	}
	args = append(args, "--", url, tmp)
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	var captured bytes.Buffer
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Split(scanLinesCR)
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				continue
			}
			line = redactIn(line, url)
			if !strings.Contains(line, "%") && !strings.HasPrefix(line, "Cloning into") {
				captured.WriteString(line + "\n")
			}
			if out != nil {
				out(line)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	err = cmd.Run()
	pw.Close()
	<-done
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &CloneError{URL: url, Output: captured.String(), Err: err}
	}
	if clean := withoutCredentials(url); clean != url {
		// The clone keeps its remote without the credentials: git in
		// the workspace asks for them the usual way instead.
		set := exec.CommandContext(ctx, "git", "-C", tmp, "remote", "set-url", "origin", clean)
		if b, err := set.CombinedOutput(); err != nil {
			return fmt.Errorf("removing the credentials from the clone's remote: %v: %s", err, redactIn(string(b), url))
		}
		if out != nil {
			out("the credentials in the URL were used for the clone and not kept")
		}
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("moving the clone into place: %w", err)
	}
	return nil
}

// Redact returns a git URL fit to show and to store: the user information
// of an http(s) URL, which often carries a token, becomes "***". Other URLs
// and folders come back unchanged.
func Redact(raw string) string {
	clean := withoutCredentials(raw)
	if clean == raw {
		return raw
	}
	scheme, rest, _ := strings.Cut(clean, "://")
	return scheme + "://***@" + rest
}

// withoutCredentials returns an http(s) URL without its user information.
func withoutCredentials(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil || u.User == nil || (u.Scheme != "http" && u.Scheme != "https") {
		return raw
	}
	u.User = nil
	return u.String()
}

// redactIn replaces the credentials of url wherever they appear in s.
func redactIn(s, url string) string {
	u, err := neturl.Parse(url)
	if err != nil || u.User == nil || (u.Scheme != "http" && u.Scheme != "https") {
		return s
	}
	s = strings.ReplaceAll(s, url, Redact(url))
	if info := u.User.String(); info != "" {
		s = strings.ReplaceAll(s, info+"@", "***@")
	}
	if p, ok := u.User.Password(); ok && p != "" {
		s = strings.ReplaceAll(s, p, "***")
	}
	return s
}

// Work is what a clone holds that exists nowhere else: uncommitted
// changes (untracked files included), stash entries, and commits that no
// remote-tracking branch contains.
type Work struct {
	// Changes are `git status --porcelain` lines.
	Changes []string
	Stashes int
	// Unpushed are `git log --oneline` lines, newest first.
	Unpushed []string
}

// Empty reports whether nothing would be lost.
func (w *Work) Empty() bool {
	return len(w.Changes) == 0 && w.Stashes == 0 && len(w.Unpushed) == 0
}

// Summary says in a few words what would be lost ("2 uncommitted changes
// and 1 commit on no remote").
func (w *Work) Summary() string {
	var parts []string
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	if n := len(w.Changes); n > 0 {
		parts = append(parts, plural(n, "uncommitted change", "uncommitted changes"))
	}
	if w.Stashes > 0 {
		parts = append(parts, plural(w.Stashes, "stash entry", "stash entries"))
	}
	if n := len(w.Unpushed); n > 0 {
		parts = append(parts, plural(n, "commit on no remote", "commits on no remote"))
	}
	switch len(parts) {
	case 0:
		return "nothing"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// UnsavedWork inspects the clone in dir with git. A folder that git cannot
// read as a repository is an error: the caller cannot tell what it holds.
func UnsavedWork(ctx context.Context, dir string) (*Work, error) {
	git := func(args ...string) (string, error) {
		// The clone's files may belong to the container user's uid.
		full := append([]string{"-c", "safe.directory=*", "-C", dir}, args...)
		cmd := exec.CommandContext(ctx, "git", full...)
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("git %s in %s: %v: %s", args[0], dir, err, strings.TrimSpace(stderr.String()))
		}
		return string(out), nil
	}
	lines := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if strings.TrimSpace(l) != "" {
				out = append(out, l)
			}
		}
		return out
	}
	w := &Work{}
	st, err := git("status", "--porcelain", "--untracked-files=all")
	if err != nil {
		return nil, err
	}
	w.Changes = lines(st)
	stash, err := git("stash", "list")
	if err != nil {
		return nil, err
	}
	w.Stashes = len(lines(stash))
	// HEAD as well as every branch: a detached HEAD's commits count too.
	// A repository with no commits has no HEAD to ask about.
	if _, err := git("rev-parse", "--verify", "--quiet", "HEAD"); err == nil {
		log, err := git("log", "--oneline", "HEAD", "--branches", "--not", "--remotes")
		if err != nil {
			return nil, err
		}
		w.Unpushed = lines(log)
	}
	return w, nil
}

// scanLinesCR splits on \n and on \r, so git's progress updates arrive as
// separate lines.
func scanLinesCR(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// Fingerprint records the uncommitted files of the clone in dir: each
// path `git status` reports, with a hash of its content ("" for a deleted
// file). Work found later that matches the fingerprint was there already,
// such as files a setup command generated.
func Fingerprint(ctx context.Context, dir string) (map[string]string, error) {
	cmd := exec.CommandContext(ctx, "git", "-c", "safe.directory=*", "-C", dir, "status", "--porcelain", "-z", "--untracked-files=all")
	cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git status in %s: %w", dir, err)
	}
	fp := map[string]string{}
	entries := strings.Split(string(out), "\x00")
	for i := 0; i < len(entries); i++ {
		e := entries[i]
		if len(e) < 4 {
			continue
		}
		path := e[3:]
		if e[0] == 'R' || e[0] == 'C' {
			i++ // the entry after a rename is its old path
		}
		fp[path] = fileHash(filepath.Join(dir, path))
	}
	return fp, nil
}

// fileHash is the SHA-256 of a file's content, or "" when it cannot be
// read (it was deleted).
func fileHash(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Without drops the changes that match fp: what was there when fp was
// taken and has not changed since.
func (w *Work) Without(dir string, fp map[string]string) {
	if len(fp) == 0 {
		return
	}
	kept := w.Changes[:0]
	for _, line := range w.Changes {
		if len(line) > 3 {
			path := line[3:]
			if _, new, ok := strings.Cut(path, " -> "); ok {
				path = new
			}
			path = strings.Trim(path, `"`)
			if h, ok := fp[path]; ok && h == fileHash(filepath.Join(dir, path)) {
				continue
			}
		}
		kept = append(kept, line)
	}
	w.Changes = kept
}

// Host returns the host (with a port, if the URL has one) of a git
// remote URL (https, ssh, scp-like), or "" for local paths and file://.
func Host(remote string) string {
	remote = strings.TrimSpace(remote)
	if strings.Contains(remote, "://") {
		u, err := neturl.Parse(remote)
		if err != nil || u.Scheme == "file" {
			return ""
		}
		h := strings.ToLower(u.Host)
		if u.Scheme == "ssh" || u.Scheme == "git+ssh" || u.Scheme == "git" {
			// The port of an SSH remote says nothing about HTTPS.
			h = strings.ToLower(u.Hostname())
		}
		return h
	}
	// scp-like: [user@]host:path
	if i := strings.IndexByte(remote, ':'); i > 0 && !strings.ContainsAny(remote[:i], "/\\") {
		h := remote[:i]
		if j := strings.LastIndexByte(h, '@'); j >= 0 {
			h = h[j+1:]
		}
		return strings.ToLower(h)
	}
	return ""
}

// RemoteHosts returns the hosts of the remotes of the git repository at
// dir (none if it is not one), sorted and without duplicates.
func RemoteHosts(ctx context.Context, dir string) []string {
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "config", "--get-regexp", `^remote\..*\.(push)?url$`)
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	var hosts []string
	for _, line := range strings.Split(string(out), "\n") {
		_, u, ok := strings.Cut(line, " ")
		if h := Host(u); ok && h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	slices.Sort(hosts)
	return hosts
}
