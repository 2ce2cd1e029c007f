package workspace

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pitlane/pitlane/internal/runtime"
	"github.com/pitlane/pitlane/internal/source"
)

// dotfilesScript unpacks the dotfiles into ~/dotfiles and installs them,
// as the workspace user: the named script, else the first conventional
// install script, else a link in home for each dotfile. $1 is the tar
// file, $2 the script (may be empty).
const dotfilesScript = `command -v tar >/dev/null 2>&1 || { echo "the image has no tar to unpack them"; exit 3; }
target="$HOME/dotfiles"
if [ -e "$target" ]; then echo "$target exists already; it was left as it is"; rm -f "$1"; exit 4; fi
mkdir -p "$target" && tar -xf "$1" -C "$target" || exit 5
rm -f "$1"
cd "$target" || exit 5
script=$2
if [ -z "$script" ]; then
  for s in install.sh install bootstrap.sh bootstrap script/bootstrap setup.sh setup script/setup; do
    if [ -f "$s" ]; then script=$s; break; fi
  done
fi
if [ -n "$script" ]; then
  case "$script" in /*) ;; *) script="./$script" ;; esac
  if [ ! -f "$script" ]; then echo "$2 is not in the dotfiles repository"; exit 6; fi
  echo "running $script"
  chmod +x "$script" 2>/dev/null
  "$script"
  exit $?
fi
for f in .[!.]* ..?*; do
  [ -e "$f" ] || continue
  case "$f" in .git|.github|.gitignore|.gitmodules|.gitattributes) continue ;; esac
  if [ -d "$HOME/$f" ] && [ ! -L "$HOME/$f" ]; then echo "kept ~/$f: it is a folder in the image"; continue; fi
  ln -sfn "$target/$f" "$HOME/$f" && echo "linked ~/$f"
done
exit 0
`

var ownerRepoRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// dotfilesURL turns what the user gave into something git clones: GitHub's
// OWNER/REPO shorthand becomes an https URL; git URLs and local folders
// stay.
func dotfilesURL(repo string) string {
	if source.IsGitURL(repo) {
		return repo
	}
	if _, err := os.Stat(repo); err == nil {
		if abs, err := filepath.Abs(repo); err == nil {
			return abs
		}
		return repo
	}
	if ownerRepoRE.MatchString(repo) {
		return "https://github.com/" + strings.TrimSuffix(repo, ".git") + ".git"
	}
	return repo
}

// redactURL drops a password or token from a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}

// installDotfiles clones the user's dotfiles with the host's git (so their
// credentials and file:// paths work), copies them into the workspace
// user's ~/dotfiles and installs them. It never fails the create: what
// goes wrong is reported.
func (m *Manager) installDotfiles(ctx context.Context, ws *Workspace, d *Dotfiles, env []string, p Progress) {
	if d == nil || d.Repository == "" {
		return
	}
	repo := dotfilesURL(d.Repository)
	shown := redactURL(repo)
	p.Step("Installing dotfiles from " + shown)
	warn := func(format string, a ...any) {
		p.Output("warning: dotfiles: " + fmt.Sprintf(format, a...) + "; the workspace works without them")
	}
	tmp, err := os.MkdirTemp(m.wsDir(ws.Name), ".dotfiles-")
	if err != nil {
		warn("%v", err)
		return
	}
	defer os.RemoveAll(tmp)
	clone := filepath.Join(tmp, "dotfiles")
	if err := source.Clone(ctx, repo, "", clone, nil); err != nil {
		warn("%s", strings.ReplaceAll(err.Error(), repo, shown))
		return
	}
	if shown != repo {
		// The copy in the workspace keeps its origin, without the secret.
		_ = exec.CommandContext(ctx, "git", "-C", clone, "remote", "set-url", "origin", shown).Run()
	}
	archive, err := tarFolder(clone)
	if err != nil {
		warn("packing them: %v", err)
		return
	}
	nonce := make([]byte, 6)
	rand.Read(nonce)
	staged := "/tmp/.pitlane-dotfiles-" + hex.EncodeToString(nonce) + ".tar"
	if err := m.CopyFile(ctx, ws.Name, staged, archive, 0o600); err != nil {
		warn("copying them in: %v", err)
		return
	}
	lw := newLineWriter(p.Output)
	code, err := m.rt.Exec(ctx, ws.ContainerID, runtime.ExecSpec{
		Cmd:  []string{"/bin/sh", "-c", dotfilesScript, "sh", staged, d.Script},
		User: ws.RemoteUser, Env: env, Stdout: lw, Stderr: lw,
	})
	lw.Flush()
	switch {
	case err != nil:
		warn("%v", err)
	case code == 3 || code == 4 || code == 5 || code == 6:
		warn("not installed")
	case code != 0:
		warn("the install script exited with status %d (its output is in `pitlane logs %s`)", code, ws.Name)
	default:
		// The user's shell setup may have changed: probe it again.
		os.Remove(m.userEnvPath(ws.Name))
	}
}

// setupDotfiles installs the workspace's dotfiles, if it has any, with
// the hooks' environment (and so the host's credentials, once await has
// seen the forwarding channel work).
func (m *Manager) setupDotfiles(ctx context.Context, ws *Workspace, env []string, await func(), p Progress) {
	pers, err := m.Personal(ws.Name)
	if err != nil || pers.Dotfiles == nil {
		return
	}
	await()
	m.installDotfiles(ctx, ws, pers.Dotfiles, env, p)
}

// tarFolder packs a folder (files, folders, symlinks) into a tar archive.
func tarFolder(dir string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
