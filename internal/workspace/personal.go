package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pitlane/pitlane/internal/runtime"
	"github.com/pitlane/pitlane/internal/source"
)

// Personal is what a user brings into a workspace beyond its source: an
// environment, dotfiles, and which git hosts are its own. It is kept in
// the workspace's data folder (0600), never in a label or an image, and a
// rebuild applies it again.
type Personal struct {
	// Env (KEY=VALUE) is added to the environment of hooks, exec and SSH
	// sessions.
	Env []string `json:"env,omitempty"`
	// Dotfiles, if set, are installed in the workspace user's home.
	Dotfiles *Dotfiles `json:"dotfiles,omitempty"`
	// RemoteHosts are the hosts of the workspace's own git remotes, as they
	// were before any of the workspace's code ran.
	RemoteHosts []string `json:"remoteHosts,omitempty"`
}

// Dotfiles name a repository of the user's dotfiles and how to install
// them.
type Dotfiles struct {
	// Repository is a git URL, a local repository, or GitHub's OWNER/REPO.
	Repository string `json:"repository"`
	// Script is the install script, relative to the repository; empty
	// means the first of install.sh, install, bootstrap.sh, bootstrap,
	// script/bootstrap, setup.sh, setup, script/setup, or else linking the
	// repository's dotfiles into home.
	Script string `json:"script,omitempty"`
}

// Forwarder lends processes in a workspace what stays on the host (git
// credentials) for as long as they run. The engine uses it for setup
// hooks, for dotfiles and for Exec calls that ask for it.
type Forwarder interface {
	// Forward starts serving the host's side for processes run as user in
	// ws, after delay (a process that ends sooner costs nothing). It must
	// not block: the channel comes up while the process starts.
	Forward(ctx context.Context, ws *Workspace, user string, delay time.Duration) *Forwarding
	// GitCredentialHelper is the credential.helper value that makes git in
	// a workspace ask through a Forwarding.
	GitCredentialHelper() string
}

// Forwarding is one forwarding channel.
type Forwarding struct {
	// Env entries (KEY=VALUE) tell the process where the channel is.
	Env []string
	// Ready receives nil once the channel works, or why it cannot.
	Ready <-chan error
	// Stop ends the channel.
	Stop func()
}

const personalFile = "personal.json"

// Dir is the data folder of workspace name: its clone, log, markers and
// the user's settings for it.
func (m *Manager) Dir(name string) string { return m.wsDir(name) }

// Personal returns what the user brought into workspace name (see
// Personal); a workspace made before these were kept has none.
func (m *Manager) Personal(name string) (*Personal, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	p := &Personal{}
	b, err := os.ReadFile(filepath.Join(m.wsDir(name), personalFile))
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(m.wsDir(name), personalFile), err)
	}
	return p, nil
}

func (m *Manager) savePersonal(name string, p *Personal) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.wsDir(name), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(m.wsDir(name), personalFile), b, 0o600)
}

var envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CheckEnv checks KEY=VALUE entries given for a workspace's environment.
func CheckEnv(env []string) error {
	for _, kv := range env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || !envKeyRE.MatchString(k) {
			return fmt.Errorf("environment entry %q: give KEY=VALUE, with a KEY of letters, digits and '_' not starting with a digit", k)
		}
	}
	return nil
}

// recordPersonal keeps what the user brought for a new workspace, with
// its remote hosts taken now, before any of its code runs.
func (m *Manager) recordPersonal(ctx context.Context, name string, src Source, local string, opts CreateOptions) error {
	p := &Personal{Env: opts.Env, Dotfiles: opts.Dotfiles}
	if !src.Local {
		if h := source.Host(src.URL); h != "" {
			p.RemoteHosts = append(p.RemoteHosts, h)
		}
	}
	for _, h := range source.RemoteHosts(ctx, local) {
		if !slices.Contains(p.RemoteHosts, h) {
			p.RemoteHosts = append(p.RemoteHosts, h)
		}
	}
	return m.savePersonal(name, p)
}

// personalEnv is the user's environment for a workspace, added last to
// that of hooks and exec.
func (m *Manager) personalEnv(name string) []string {
	p, err := m.Personal(name)
	if err != nil {
		return nil
	}
	return p.Env
}

// execForwardDelay is how long an Exec runs before its forwarding channel
// starts: most commands that ask for credentials run longer, and the many
// short ones then cost nothing.
const execForwardDelay = 200 * time.Millisecond

// forward starts a Forwarding for a process of ws run as user; without a
// Forwarder it is an empty one.
func (m *Manager) forward(ctx context.Context, ws *Workspace, user string) *Forwarding {
	return m.forwardAfter(ctx, ws, user, 0)
}

func (m *Manager) forwardAfter(ctx context.Context, ws *Workspace, user string, delay time.Duration) *Forwarding {
	if m.opts.Forwarder == nil {
		ready := make(chan error, 1)
		ready <- errors.New("this Pitlane process forwards nothing")
		return &Forwarding{Ready: ready, Stop: func() {}}
	}
	if user == "" {
		user = ws.RemoteUser
	}
	return m.opts.Forwarder.Forward(ctx, ws, user, delay)
}

// gitKeys are the settings copied from the host's git config: who the
// user is and how they sign.
var gitKeys = []string{"user.name", "user.email", "gpg.format", "user.signingkey", "commit.gpgsign", "tag.gpgsign"}

// gitKeysPattern matches exactly the gitKeys, as git config spells them.
var gitKeysPattern = "^(" + strings.ReplaceAll(strings.Join(gitKeys, "|"), ".", `\.`) + ")$"

// hostGitIdentity reads the user's identity and signing settings from
// the host's git config as it applies to dir (so includeIf rules for the
// folder count). Signing is kept only in SSH form, which works through a
// forwarded agent; notes say what was left out and why.
func hostGitIdentity(ctx context.Context, dir string) (keys, values, notes []string) {
	// One git run reads every key; with -z each entry is "key\nvalue\0",
	// and for a key set more than once the last one counts, as in git.
	args := []string{"config", "--includes", "-z", "--get-regexp", gitKeysPattern}
	if dir != "" {
		args = append([]string{"-C", dir}, args...)
	}
	set := map[string]string{}
	out, _ := exec.CommandContext(ctx, "git", args...).Output()
	for _, entry := range strings.Split(string(out), "\x00") {
		k, v, _ := strings.Cut(entry, "\n")
		if v = strings.TrimSpace(v); k != "" && v != "" {
			set[k] = v
		}
	}
	signs := set["commit.gpgsign"] == "true" || set["tag.gpgsign"] == "true" || set["user.signingkey"] != ""
	if signs && set["gpg.format"] != "ssh" {
		notes = append(notes, "commit signing with "+firstNonEmpty(set["gpg.format"], "openpgp")+" was not copied (it needs gpg in the workspace); SSH signing (gpg.format ssh) works through the forwarded agent")
		for _, k := range []string{"gpg.format", "user.signingkey", "commit.gpgsign", "tag.gpgsign"} {
			delete(set, k)
		}
	}
	if key := set["user.signingkey"]; key != "" && !strings.HasPrefix(key, "key::") && !strings.HasPrefix(key, "ssh-") {
		// A path on this machine: the workspace gets the public key itself.
		path := key
		if strings.HasPrefix(path, "~/") {
			if home, err := os.UserHomeDir(); err == nil {
				path = filepath.Join(home, path[2:])
			}
		}
		pub, err := os.ReadFile(path)
		if err != nil || !strings.HasPrefix(string(pub), "ssh-") && !strings.HasPrefix(string(pub), "sk-") && !strings.HasPrefix(string(pub), "ecdsa-") {
			if p2, err2 := os.ReadFile(path + ".pub"); err2 == nil {
				pub, err = p2, nil
			}
		}
		if err != nil || strings.Contains(string(pub), "PRIVATE KEY") {
			notes = append(notes, "user.signingkey "+key+" was not copied: no public key found at that path")
			delete(set, "user.signingkey")
		} else {
			set["user.signingkey"] = "key::" + strings.TrimSpace(string(pub))
		}
	}
	for _, k := range gitKeys {
		if v, ok := set[k]; ok {
			keys, values = append(keys, k), append(values, v)
		}
	}
	return keys, values, notes
}

// personalize sets the new container up for its user before the setup
// hooks run: their git identity, git's credential helper, and the
// forwarding channel's agent. Nothing here fails the create; what does
// not work is reported.
func (m *Manager) personalize(ctx context.Context, ws *Workspace, p Progress) {
	keys, values, notes := hostGitIdentity(ctx, ws.LocalFolder)
	var helper string
	if m.opts.Forwarder != nil {
		helper = m.opts.Forwarder.GitCredentialHelper()
	}
	if len(keys) == 0 && helper == "" {
		return
	}
	p.Step("Setting up git for " + firstNonEmpty(ws.RemoteUser, "root"))
	// The helper is configured system-wide, so dotfiles that bring their
	// own ~/.gitconfig keep it. For root the identity and the helper share
	// one exec; another user's identity needs an exec as that user.
	const setHelper = `git config --system --get-all credential.helper 2>/dev/null | grep -qxF "$1" || git config --system --add credential.helper "$1" || exit 4` + "\n"
	var script strings.Builder
	script.WriteString("command -v git >/dev/null 2>&1 || { echo 'git is not in the image'; exit 3; }\n")
	args := []string{"/bin/sh", "-c", "", "sh", helper}
	for i, k := range keys {
		// Values are passed as arguments, never spliced into the script.
		fmt.Fprintf(&script, "git config --global %s \"${%d}\" || exit 1\n", k, i+2)
		args = append(args, values[i])
	}
	together := helper != "" && isRoot(ws.RemoteUser)
	if together {
		script.WriteString(setHelper)
	}
	args[2] = script.String()
	lw := newLineWriter(p.Output)
	code, err := m.rt.Exec(ctx, ws.ContainerID, runtime.ExecSpec{Cmd: args, User: ws.RemoteUser, Stdout: lw, Stderr: lw})
	lw.Flush()
	helperFailed := func(code int, err error) {
		p.Output(fmt.Sprintf("warning: git's credential helper was not set up (exit status %d, %v); git in the workspace will not get your credentials", code, err))
	}
	switch {
	case err != nil:
		p.Output(fmt.Sprintf("warning: git was not set up: %v", err))
		return
	case code == 3:
		p.Output("note: the image has no git, so your git identity and credentials are not set up in it")
		return
	case code != 0 && code != 4:
		p.Output(fmt.Sprintf("warning: writing the git identity failed (exit status %d)", code))
	case len(keys) > 0:
		p.Output("Copied from your git config: " + strings.Join(keys, ", "))
	default:
		p.Output("Your git config has no user.name or user.email to copy")
	}
	for _, n := range notes {
		p.Output("note: " + n)
	}
	if helper == "" {
		return
	}
	if code == 4 {
		helperFailed(code, nil)
		return
	}
	if !together || code != 0 {
		code, err = m.rt.Exec(ctx, ws.ContainerID, runtime.ExecSpec{User: "root", Cmd: []string{"/bin/sh", "-c", setHelper, "sh", helper}})
		if err != nil || code != 0 {
			helperFailed(code, err)
			return
		}
	}
	p.Output("git asks this machine for credentials of the workspace's own hosts (`pitlane credentials " + ws.Name + "` shows and changes that)")
}

// awaitForwarding waits, at the end of a setup, until the forwarding
// channel that served it works: then the agent that git's credential
// helper runs is in place. It reports when that is not so.
func (m *Manager) awaitForwarding(ctx context.Context, ws *Workspace, fw *Forwarding, p Progress) {
	if m.opts.Forwarder == nil {
		return
	}
	select {
	case err := <-fw.Ready:
		if err != nil && ctx.Err() == nil {
			p.Output("warning: git credentials cannot be forwarded to " + ws.Name + ": " + err.Error())
		}
	case <-time.After(2 * time.Minute):
		p.Output("warning: git credentials cannot be forwarded to " + ws.Name + ": the forwarding channel did not start")
	case <-ctx.Done():
	}
}
