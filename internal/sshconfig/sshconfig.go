// Package sshconfig manages how OpenSSH (and every IDE that uses it) finds
// Pitlane workspaces: Pitlane's own ssh_config with one literal
// `Host NAME.pitlane` block per workspace, its per-install keys, and a
// single Include line at the top of the user's ~/.ssh/config that is added
// once and never disturbs the rest of that file.
package sshconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
)

// Domain is the pseudo top-level domain of workspace host names.
const Domain = "pitlane"

// Options say where things are. Zero values pick the defaults.
type Options struct {
	// ConfigDir is Pitlane's config folder: $XDG_CONFIG_HOME/pitlane, or
	// ~/.config/pitlane.
	ConfigDir string
	// UserConfig is the user's OpenSSH config: ~/.ssh/config.
	UserConfig string
	// Binary is the absolute path of the pitlane executable that the
	// ProxyCommand runs: the running executable.
	Binary string
	// ForwardAgent makes every connection to a workspace forward the
	// user's ssh-agent (the user's setting); otherwise only `ssh -A` does.
	ForwardAgent bool
	// Hosts are the workspace names to write blocks for. Nil keeps the
	// names the file has now (see ReadHosts); names that are not DNS
	// labels are never written.
	Hosts []string
}

// DefaultConfigDir is $XDG_CONFIG_HOME/pitlane, or ~/.config/pitlane.
func DefaultConfigDir() (string, error) {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "pitlane"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home folder: %w; set HOME", err)
	}
	return filepath.Join(home, ".config", "pitlane"), nil
}

func (o Options) withDefaults() (Options, error) {
	if o.ConfigDir == "" {
		d, err := DefaultConfigDir()
		if err != nil {
			return o, err
		}
		o.ConfigDir = d
	}
	if o.UserConfig == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return o, fmt.Errorf("cannot find the home folder: %w; set HOME", err)
		}
		o.UserConfig = filepath.Join(home, ".ssh", "config")
	}
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return o, fmt.Errorf("cannot find the pitlane executable: %w", err)
		}
		o.Binary = exe
	}
	if abs, err := filepath.Abs(o.Binary); err == nil {
		o.Binary = abs
	}
	return o, nil
}

// OwnConfigPath is the path of Pitlane's own ssh_config in dir.
func OwnConfigPath(dir string) string { return filepath.Join(dir, "ssh_config") }

// Result tells what Ensure did.
type Result struct {
	// OwnConfig is the path of Pitlane's ssh_config.
	OwnConfig string
	// UserConfig is the user's config that includes it.
	UserConfig string
	// Added is true when the Include line was added by this call.
	Added bool
	// Replaced is the path of a stale Include of Pitlane's that this call
	// replaced (it named an ssh_config that no longer exists).
	Replaced string
	Keys     *Keys
}

// WriteOwn creates the keys if needed and writes Pitlane's own ssh_config,
// without touching the user's. `pitlane ssh` uses the file with `ssh -F`.
func WriteOwn(o Options) (string, *Keys, error) {
	o, err := o.withDefaults()
	if err != nil {
		return "", nil, err
	}
	keys, err := EnsureKeys(o.ConfigDir)
	if err != nil {
		return "", nil, fmt.Errorf("preparing Pitlane's SSH keys in %s: %w", o.ConfigDir, err)
	}
	path := OwnConfigPath(o.ConfigDir)
	hosts := o.Hosts
	if hosts == nil {
		hosts = ReadHosts(o.ConfigDir)
	}
	data := OwnConfig(o.Binary, keys, hosts)
	if o.ForwardAgent {
		data = forwardAgent(data)
	}
	if err := writeIfChanged(path, data, 0o644); err != nil {
		return "", nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return path, keys, nil
}

// Ensure writes Pitlane's ssh_config and keys and makes the user's
// ~/.ssh/config include it. It is idempotent and cheap when everything is
// in place, so `pitlane create` calls it every time.
func Ensure(o Options) (*Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	own, keys, err := WriteOwn(o)
	if err != nil {
		return nil, err
	}
	added, replaced, err := addInclude(o.UserConfig, own)
	if err != nil {
		return nil, err
	}
	return &Result{OwnConfig: own, UserConfig: o.UserConfig, Added: added, Replaced: replaced, Keys: keys}, nil
}

// Uninstall removes the Include line from the user's config and Pitlane's
// own ssh_config. The keys stay, so workspaces keep their trust; it reports
// whether the user's config changed.
func Uninstall(o Options) (bool, error) {
	o, err := o.withDefaults()
	if err != nil {
		return false, err
	}
	own := OwnConfigPath(o.ConfigDir)
	removed, err := RemoveInclude(o.UserConfig, own)
	if err != nil {
		return false, err
	}
	if err := os.Remove(own); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return removed, err
	}
	return removed, nil
}

// OwnConfig renders Pitlane's ssh_config: one literal block per workspace.
// There is no wildcard block and no %n or %h token: a host name never
// reaches the ProxyCommand's shell (OpenSSH before 9.6 passed them
// unchecked), and a second Pitlane config (another XDG_CONFIG_HOME)
// included beside this one cannot shadow its hosts' keys.
func OwnConfig(binary string, k *Keys, hosts []string) []byte {
	var b bytes.Buffer
	b.WriteString("# Pitlane's SSH settings for workspaces, reached as NAME." + Domain + ".\n")
	b.WriteString("# Written by pitlane; edits are overwritten. Remove with: pitlane ssh-config --uninstall\n")
	names := validHosts(hosts)
	if len(names) == 0 {
		b.WriteString("# No workspaces yet.\n")
	}
	for _, name := range names {
		host := name + "." + Domain
		b.WriteString("\nHost " + host + "\n")
		fmt.Fprintf(&b, "\tProxyCommand %s ssh --stdio %s\n", escapePercent(shellQuote(binary)), host)
		fmt.Fprintf(&b, "\tIdentityFile %s\n", configQuote(escapePercent(k.ClientKeyFile)))
		b.WriteString("\tIdentitiesOnly yes\n")
		fmt.Fprintf(&b, "\tUserKnownHostsFile %s\n", configQuote(escapePercent(k.KnownHostsFile)))
		b.WriteString("\tStrictHostKeyChecking yes\n")
		b.WriteString("\tCheckHostIP no\n")
		b.WriteString("\tPasswordAuthentication no\n")
		b.WriteString("\tKbdInteractiveAuthentication no\n")
		// Agent forwarding only on request (ssh -A, pitlane ssh -A).
		b.WriteString("\tForwardAgent no\n")
		// A laptop that slept finds its dead connections within a
		// minute, so editors reconnect instead of hanging.
		b.WriteString("\tServerAliveInterval 15\n")
		b.WriteString("\tServerAliveCountMax 4\n")
	}
	return b.Bytes()
}

// forwardAgent turns agent forwarding on in every Host block of a
// rendered config: a ForwardAgent line says yes, and a block without one
// gets one.
func forwardAgent(cfg []byte) []byte {
	var out bytes.Buffer
	lines := strings.SplitAfter(string(cfg), "\n")
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if k, _, _ := strings.Cut(t, " "); strings.EqualFold(k, "ForwardAgent") {
			out.WriteString("\tForwardAgent yes\n")
			continue
		}
		out.WriteString(line)
		if k, _, _ := strings.Cut(t, " "); strings.EqualFold(k, "Host") && !blockSays(lines[i+1:], "ForwardAgent") {
			out.WriteString("\tForwardAgent yes\n")
		}
	}
	return out.Bytes()
}

// blockSays reports whether the Host block starting at lines sets key.
func blockSays(lines []string, key string) bool {
	for _, line := range lines {
		k, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if strings.EqualFold(k, "Host") || strings.EqualFold(k, "Match") {
			return false
		}
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// hostRE matches a workspace name: a DNS label.
var hostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// validHosts returns the names that are DNS labels, sorted, once each.
func validHosts(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		if hostRE.MatchString(h) && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	sort.Strings(out)
	return out
}

// ReadHosts returns the workspace names of the ssh_config in dir.
func ReadHosts(dir string) []string {
	b, err := os.ReadFile(OwnConfigPath(dir))
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range splitLines(b) {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "Host" && strings.HasSuffix(f[1], "."+Domain) {
			out = append(out, strings.TrimSuffix(f[1], "."+Domain))
		}
	}
	return validHosts(out)
}

// shellQuote quotes s for /bin/sh, which runs the ProxyCommand.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// configQuote wraps s in double quotes when ssh_config needs them.
func configQuote(s string) string {
	if strings.ContainsAny(s, " \t\"") {
		return `"` + s + `"`
	}
	return s
}

// escapePercent protects '%' from OpenSSH's token expansion.
func escapePercent(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// IncludeLine is the line added to the user's config.
func IncludeLine(own string) string { return "Include " + configQuote(own) }

// isOurInclude reports whether line is an Include of exactly own, in any
// of the spellings OpenSSH accepts (keyword case, '=' separator, quotes).
func isOurInclude(line, own string) bool {
	p, ok := includePath(line)
	return ok && p == own
}

// includePath returns the single path of an Include line.
func includePath(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if len(t) < len("include") || !strings.EqualFold(t[:len("include")], "include") {
		return "", false
	}
	rest := t[len("include"):]
	if rest == "" || !strings.ContainsRune(" \t=", rune(rest[0])) {
		return "", false // "IncludeX": another keyword
	}
	rest = strings.TrimSpace(rest)
	rest = strings.TrimSpace(strings.TrimPrefix(rest, "="))
	rest = strings.TrimSuffix(strings.TrimPrefix(rest, `"`), `"`)
	return rest, true
}

// ErrChangedMeanwhile is returned when the user's config kept changing
// while Pitlane tried to update it.
var ErrChangedMeanwhile = errors.New("the file kept changing while Pitlane was updating it; try again")

// testHookBeforeRename runs between reading and replacing the user's
// config (tests simulate a concurrent editor with it).
var testHookBeforeRename func(path string)

// AddInclude adds IncludeLine(own) at the top of the config at path unless
// the file already includes own. It reports whether it changed the file.
func AddInclude(path, own string) (bool, error) {
	added, _, err := addInclude(path, own)
	return added, err
}

// addInclude is AddInclude that also removes a stale Include of Pitlane's:
// one naming another Pitlane ssh_config that no longer exists (left by a
// config folder that moved). It returns the path of the line it replaced.
func addInclude(path, own string) (added bool, replaced string, err error) {
	added, err = editUserConfig(path, own, func(content []byte, nl string) ([]byte, bool) {
		replaced = ""
		var rest []byte
		has := false
		for _, line := range splitLinesKeepEnds(content) {
			if isOurInclude(line, own) {
				has = true
			}
			if p := staleInclude(line, own); p != "" {
				replaced = p
				continue
			}
			rest = append(rest, line...)
		}
		if has && replaced == "" {
			return nil, false
		}
		if has {
			return rest, true
		}
		return append([]byte(IncludeLine(own)+nl), rest...), true
	})
	if err != nil {
		return false, "", readOnlyHint(path, own, err)
	}
	return added, replaced, nil
}

// staleInclude returns the path of line when it is an Include of another
// Pitlane ssh_config (a file named ssh_config in a folder named pitlane)
// that does not exist any more; "" otherwise.
func staleInclude(line, own string) string {
	p, ok := includePath(line)
	if !ok || p == own || filepath.Base(p) != "ssh_config" || filepath.Base(filepath.Dir(p)) != "pitlane" {
		return ""
	}
	if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	return p
}

// readOnlyHint explains a user config Pitlane may not change, and what to
// do instead.
func readOnlyHint(path, own string, err error) error {
	if !errors.Is(err, fs.ErrPermission) && !errors.Is(err, syscall.EROFS) {
		return err
	}
	return fmt.Errorf("%w\n%s cannot be changed here (it is read-only, or a link to a read-only file): add the line %q to it yourself, or reach workspaces with `pitlane ssh NAME`, which needs no change to it", err, path, IncludeLine(own))
}

// RemoveInclude removes every Include line of own from the config at path,
// leaving every other byte as it was.
func RemoveInclude(path, own string) (bool, error) {
	return editUserConfig(path, own, func(content []byte, nl string) ([]byte, bool) {
		var out []byte
		changed := false
		for _, line := range splitLinesKeepEnds(content) {
			if isOurInclude(line, own) {
				changed = true
				continue
			}
			out = append(out, line...)
		}
		return out, changed
	})
}

func splitLines(b []byte) []string {
	return strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
}

func splitLinesKeepEnds(b []byte) []string {
	return strings.SplitAfter(string(b), "\n")
}

// editUserConfig applies edit to the user's config safely: symlinks are
// followed and kept, the mode and owner stay, the write is atomic, Pitlane
// processes take turns through a lock, and a change made by someone else
// between reading and writing makes it start over.
func editUserConfig(path, own string, edit func(content []byte, nl string) ([]byte, bool)) (bool, error) {
	target, err := resolveSymlinks(path)
	if err != nil {
		return false, fmt.Errorf("following %s: %w", path, err)
	}
	dir := filepath.Dir(target)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return false, fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	unlock, err := lockFile(filepath.Join(filepath.Dir(own), ".ssh_config.lock"))
	if err != nil {
		return false, err
	}
	defer unlock()

	for attempt := 0; attempt < 5; attempt++ {
		content, err := os.ReadFile(target)
		mode, uid, gid := os.FileMode(0o600), -1, -1
		if err == nil {
			st, serr := os.Stat(target)
			if serr != nil {
				return false, serr
			}
			mode = st.Mode().Perm()
			uid, gid = fileOwner(st)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("reading %s: %w", target, err)
		}
		nl := "\n"
		if bytes.Contains(content, []byte("\r\n")) {
			nl = "\r\n"
		}
		out, changed := edit(content, nl)
		if !changed {
			return false, nil
		}
		if testHookBeforeRename != nil {
			testHookBeforeRename(target)
		}
		if now, err := os.ReadFile(target); (err == nil) != (content != nil) || !bytes.Equal(now, content) {
			continue // someone else edited the file meanwhile: start over
		}
		if err := writeAtomic(target, out, mode, uid, gid); err != nil {
			return false, fmt.Errorf("writing %s: %w", target, err)
		}
		return true, nil
	}
	return false, fmt.Errorf("updating %s: %w", target, ErrChangedMeanwhile)
}

// resolveSymlinks follows path to the file it finally names, also when
// that file does not exist yet (a dangling link is followed to where the
// file would be).
func resolveSymlinks(path string) (string, error) {
	for i := 0; i < 40; i++ {
		st, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return "", errors.New("too many levels of symbolic links")
}
