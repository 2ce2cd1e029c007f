// Package source fetches the files a workspace is built from: a git
// repository cloned with the system git (so the user's credential helpers
// and SSH configuration apply), or a local folder used in place.
package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
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
	return fmt.Sprintf("git clone %s failed:\n%s", e.URL, msg)
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
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".clone-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// MkdirTemp makes the folder private; a clone is as readable as any.
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
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("moving the clone into place: %w", err)
	}
	return nil
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

// Host returns the host (with a port, if the URL has one) of a git
// remote URL (https, ssh, scp-like), or "" for local paths and file://.
func Host(remote string) string {
	remote = strings.TrimSpace(remote)
	if strings.Contains(remote, "://") {
		u, err := url.Parse(remote)
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
