package workspace

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/runtime"
)

// runPhase runs the lifecycle commands of one phase in the container, one
// after the other; the entries of an object-form command run in parallel,
// each output line prefixed with the entry's name. The first failure
// stops the phase.
func (m *Manager) runPhase(ctx context.Context, ws *Workspace, cfg *devcontainer.Config, phase string, env []string, p Progress) error {
	hooks := cfg.Hooks(phase)
	for _, h := range hooks {
		title := "Running " + phase
		if h.Origin != "" && h.Origin != "devcontainer.json" {
			title += " of " + h.Origin
		}
		p.Step(title)
		run := func(e devcontainer.Entry, out func(string)) error {
			lw := newLineWriter(out)
			code, err := m.rt.Exec(ctx, ws.ContainerID, runtime.ExecSpec{
				Cmd: e.Argv, User: ws.RemoteUser, WorkingDir: ws.Folder, Env: env, Stdout: lw, Stderr: lw,
			})
			lw.Flush()
			what := phase
			if e.Name != "" {
				what += " " + e.Name
			}
			if h.Origin != "" && h.Origin != "devcontainer.json" {
				what += " (from " + h.Origin + ")"
			}
			if err != nil {
				return fmt.Errorf("%w: %s could not run: %v", ErrHookFailed, what, err)
			}
			if code != 0 {
				return fmt.Errorf("%w: %s exited with status %d (its output is in `pitlane logs %s`)", ErrHookFailed, what, code, ws.Name)
			}
			return nil
		}
		if err := runEntries(h.Command, p, run); err != nil {
			return err
		}
	}
	return nil
}

// runEntries runs a command's entries: the string and array forms alone,
// the object form's entries in parallel, waiting for all of them and
// returning the first failure (in entry order).
func runEntries(c *devcontainer.Command, p Progress, run func(devcontainer.Entry, func(string)) error) error {
	entries := c.Entries()
	if c.Parallel == nil {
		for _, e := range entries {
			if err := run(e, p.Output); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, len(entries))
	var wg sync.WaitGroup
	for i, e := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prefix := "[" + e.Name + "] "
			errs[i] = run(e, func(line string) { p.Output(prefix + line) })
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// runInitialize runs initializeCommand on the host, in the local source
// folder, with the user's environment.
func runInitialize(ctx context.Context, cfg *devcontainer.Config, dir string, p Progress) error {
	c := cfg.InitializeCommand
	if c.Empty() {
		return nil
	}
	p.Step("Running initializeCommand on this machine")
	return runEntries(c, p, func(e devcontainer.Entry, out func(string)) error {
		cmd := exec.CommandContext(ctx, e.Argv[0], e.Argv[1:]...)
		cmd.Dir = dir
		lw := newLineWriter(out)
		cmd.Stdout, cmd.Stderr = lw, lw
		err := cmd.Run()
		lw.Flush()
		if err != nil {
			what := "initializeCommand"
			if e.Name != "" {
				what += " " + e.Name
			}
			return fmt.Errorf("%s failed on this machine: %w", what, err)
		}
		return nil
	})
}

// probeModes maps userEnvProbe values to the flags of the user's shell.
var probeModes = map[string]string{
	"loginInteractiveShell": "-lic",
	"interactiveShell":      "-ic",
	"loginShell":            "-lc",
}

const probeMark = "__pitlane_env_probe__"

// probeEnv returns the environment that the remote user's shell sets up,
// as userEnvProbe asks (default: a login interactive shell). It is nil
// for "none". prelude, if not empty, is shell code run first in the same
// process; it saves a round trip when the caller has set-up work to do as
// the same user.
func (m *Manager) probeEnv(ctx context.Context, id, user, mode, prelude string) (map[string]string, error) {
	if mode == "" {
		mode = "loginInteractiveShell"
	}
	if mode == "none" {
		if prelude != "" {
			_, _ = m.rt.Exec(ctx, id, runtime.ExecSpec{Cmd: []string{"/bin/sh", "-c", prelude}, User: user})
		}
		return nil, nil
	}
	flags, ok := probeModes[mode]
	if !ok {
		return nil, fmt.Errorf("userEnvProbe %q is not one of none, loginShell, interactiveShell, loginInteractiveShell", mode)
	}
	// One exec: find the user's login shell in the user database (any
	// user may read it), then let that shell print its environment.
	script := prelude + "\n" + `s=$(getent passwd "$(id -un 2>/dev/null)" 2>/dev/null | cut -d: -f7); [ -x "$s" ] || s=/bin/sh
exec "$s" ` + flags + ` 'printf %s ` + probeMark + `; cat /proc/self/environ; printf %s ` + probeMark + `'`
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	_, err := m.rt.Exec(pctx, id, runtime.ExecSpec{
		Cmd:    []string{"/bin/sh", "-c", script},
		User:   user,
		Stdout: &out,
	})
	if err != nil {
		return nil, fmt.Errorf("probing the environment of %s's shell: %w", user, err)
	}
	parts := strings.Split(out.String(), probeMark)
	if len(parts) < 3 {
		return nil, fmt.Errorf("probing the environment of %s's shell gave no result", user)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(parts[1], "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env[k] = v
		}
	}
	// Values of the probing process itself, not of the user's setup.
	for _, k := range []string{"_", "SHLVL", "PWD", "OLDPWD"} {
		delete(env, k)
	}
	return env, nil
}

func (m *Manager) userEnvPath(name string) string { return m.wsDir(name) + "/userenv.json" }

// saveUserEnv records a probed environment with the container it belongs to.
func (m *Manager) saveUserEnv(name, id string, env map[string]string) {
	b, err := json.Marshal(struct {
		Container string            `json:"container"`
		Env       map[string]string `json:"env"`
	}{id, env})
	if err == nil && m.mkdirPrivate(m.wsDir(name)) == nil {
		_ = writeFileAtomic(m.userEnvPath(name), b, 0o600)
	}
}

func (m *Manager) loadUserEnv(name, id string) (map[string]string, bool) {
	var rec struct {
		Container string            `json:"container"`
		Env       map[string]string `json:"env"`
	}
	b, err := os.ReadFile(m.userEnvPath(name))
	if err != nil || json.Unmarshal(b, &rec) != nil || rec.Container != id {
		return nil, false
	}
	return rec.Env, true
}

// remoteEnv is the environment of hooks and exec: the probed shell
// environment, the container variables taken from the host (hostEnv),
// then remoteEnv (with ${containerEnv:...} resolved against the
// container's environment). It probes once per container and keeps the
// result.
func (m *Manager) remoteEnv(ctx context.Context, ws *Workspace, containerEnv []string, cfg *devcontainer.Config, hostEnv map[string]string) ([]string, error) {
	return m.remoteEnvAfter(ctx, ws, containerEnv, cfg, hostEnv, "")
}

// remoteEnvAfter is remoteEnv with prelude run (as the remote user) in the
// probing process, if a probe is needed.
func (m *Manager) remoteEnvAfter(ctx context.Context, ws *Workspace, containerEnv []string, cfg *devcontainer.Config, hostEnv map[string]string, prelude string) ([]string, error) {
	probed, ok := m.loadUserEnv(ws.Name, ws.ContainerID)
	if !ok {
		var err error
		probed, err = m.probeEnv(ctx, ws.ContainerID, ws.RemoteUser, cfg.UserEnvProbe, prelude)
		if err != nil {
			return nil, err
		}
		m.saveUserEnv(ws.Name, ws.ContainerID, probed)
	}
	env := map[string]string{}
	for k, v := range probed {
		env[k] = v
	}
	cenv := devcontainer.EnvMap(containerEnv)
	for k, v := range hostEnv {
		env[k], cenv[k] = v, v
	}
	vars := devcontainer.Vars{ContainerEnv: cenv, ContainerOnly: true}
	for k, v := range cfg.RemoteEnv {
		env[k] = vars.Substitute(v)
	}
	for _, kv := range m.personalEnv(ws.Name) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return envList(env), nil
}

// containerResolve substitutes ${containerEnv:...} throughout a stored
// config, now that the container exists.
func containerResolve(cfg *devcontainer.Config, containerEnv []string) *devcontainer.Config {
	vars := devcontainer.Vars{ContainerEnv: devcontainer.EnvMap(containerEnv), ContainerOnly: true}
	out, err := vars.SubstituteConfig(cfg)
	if err != nil {
		return cfg
	}
	return out
}
