package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/source"
)

// Kinds of host access a configuration can ask for. Each needs the user's
// trust before Pitlane acts on it.
const (
	TrustInitialize    = "initializeCommand" // a command run on this machine
	TrustPrivileged    = "privileged"        // privileged mode
	TrustCapability    = "capability"        // an added Linux capability
	TrustDevice        = "device"            // a host device
	TrustHostNetwork   = "hostNetwork"       // the host's network
	TrustHostNamespace = "hostNamespace"     // another container's namespaces
	TrustSecurityOpt   = "securityOpt"       // a relaxed security option
	TrustBindMount     = "bindMount"         // a host path mounted in
	TrustBuildContext  = "buildContext"      // a build context outside the source
)

// TrustItem is one thing a configuration asks that needs trust.
type TrustItem struct {
	Kind string `json:"kind"`
	// Detail is the command, capability, device, path or option, as the
	// configuration writes it (secrets from ${localEnv:...} are not
	// expanded here).
	Detail string `json:"detail"`
	// From says who asks: "devcontainer.json", "image metadata" or a
	// feature.
	From string `json:"from,omitempty"`
}

// String describes the item for a person.
func (it TrustItem) String() string {
	var what string
	switch it.Kind {
	case TrustInitialize:
		what = "run on this machine: " + it.Detail
	case TrustPrivileged:
		what = "run the container in privileged mode (full access to this machine)"
	case TrustCapability:
		what = "add the Linux capability " + it.Detail
	case TrustDevice:
		what = "use the host device " + it.Detail
	case TrustHostNetwork:
		what = "use this machine's network (" + it.Detail + ")"
	case TrustHostNamespace:
		what = "join the namespaces of " + it.Detail
	case TrustSecurityOpt:
		what = "relax container security: " + it.Detail
	case TrustBindMount:
		what = "mount " + it.Detail
	case TrustBuildContext:
		what = "send " + it.Detail + " to the image builder"
	default:
		what = it.Kind + " " + it.Detail
	}
	if it.From != "" {
		what += " (" + it.From + ")"
	}
	return what
}

// TrustRequest is what a workspace's configuration asks of the host.
type TrustRequest struct {
	Workspace string `json:"workspace"`
	// Source is the workspace's source, credentials redacted.
	Source     string      `json:"source"`
	ConfigPath string      `json:"configPath,omitempty"`
	Items      []TrustItem `json:"items"`

	configHash string
	local      bool
}

// Summary is one line naming the kinds of access asked for.
func (r *TrustRequest) Summary() string {
	var kinds []string
	for _, it := range r.Items {
		if !slices.Contains(kinds, it.Kind) {
			kinds = append(kinds, it.Kind)
		}
	}
	return strings.Join(kinds, ", ")
}

// TrustError stops an operation whose configuration needs trust that was
// not given. It matches ErrTrustRequired.
type TrustError struct{ Request *TrustRequest }

func (e *TrustError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the configuration of %s asks for access to this machine (%s) and you have not trusted it:", e.Request.Source, e.Request.Summary())
	for _, it := range e.Request.Items {
		b.WriteString("\n  - " + it.String())
	}
	b.WriteString("\nif you trust this repository, run again with --trust")
	if e.Request.local {
		b.WriteString(" (or trust the folder for good: pitlane trust " + e.Request.Source + ")")
	}
	return b.String()
}

func (e *TrustError) Is(target error) bool { return target == ErrTrustRequired }

// Consent decides whether a configuration may have what it asks of the
// host. The CLI asks on the terminal (or takes --trust); the bridge
// answers with the request's trust flag and otherwise returns the list to
// the IDE. A nil Consent refuses.
type Consent interface {
	Trust(ctx context.Context, req *TrustRequest) (bool, error)
}

// ConsentFunc adapts a function to Consent.
type ConsentFunc func(ctx context.Context, req *TrustRequest) (bool, error)

// Trust calls f.
func (f ConsentFunc) Trust(ctx context.Context, req *TrustRequest) (bool, error) { return f(ctx, req) }

// TrustAll is the Consent of --trust: it agrees to everything.
var TrustAll Consent = ConsentFunc(func(context.Context, *TrustRequest) (bool, error) { return true, nil })

// commandText is a lifecycle command as one line for a person.
func commandText(c *devcontainer.Command) string {
	if c == nil {
		return ""
	}
	if c.Parallel == nil {
		if c.Args != nil {
			return strings.Join(c.Args, " ")
		}
		return c.Shell
	}
	var parts []string
	for _, e := range c.Entries() {
		parts = append(parts, e.Name+": "+strings.Join(e.Argv, " "))
	}
	return strings.Join(parts, "; ")
}

// hostAccess lists what one configuration entry (a devcontainer.json, an
// image's metadata entry or a feature) asks of the host.
func hostAccess(cfg *devcontainer.Config, from string) []TrustItem {
	var items []TrustItem
	if cfg.Privileged != nil && *cfg.Privileged {
		items = append(items, TrustItem{Kind: TrustPrivileged, Detail: "privileged mode", From: from})
	}
	for _, c := range cfg.CapAdd {
		items = append(items, TrustItem{Kind: TrustCapability, Detail: strings.ToUpper(c), From: from})
	}
	for _, o := range cfg.SecurityOpt {
		items = append(items, TrustItem{Kind: TrustSecurityOpt, Detail: o, From: from})
	}
	for _, mt := range cfg.Mounts {
		dm, err := toDockerMount(mt)
		if err == nil && dm.Type == "bind" {
			items = append(items, TrustItem{Kind: TrustBindMount, Detail: dm.Source + " to " + dm.Target, From: from})
		}
	}
	return items
}

// planTrust lists what a resolved configuration asks of the host before
// any image exists: its initializeCommand, its own and its features' host
// access, its runArgs, a workspaceMount of another host path and a build
// context outside the source. raw is the configuration as written, for
// showing commands without expanded secrets.
func planTrust(r *resolved, local string) []TrustItem {
	const own = "devcontainer.json"
	var items []TrustItem
	if raw := r.plan.cfg; !raw.InitializeCommand.Empty() {
		items = append(items, TrustItem{Kind: TrustInitialize, Detail: commandText(raw.InitializeCommand), From: own})
	}
	items = append(items, hostAccess(r.cfg, own)...)
	if ra := r.runArgs; ra != nil {
		if ra.Privileged {
			items = append(items, TrustItem{Kind: TrustPrivileged, Detail: "privileged mode", From: own + " runArgs"})
		}
		for _, c := range ra.CapAdd {
			items = append(items, TrustItem{Kind: TrustCapability, Detail: strings.ToUpper(c), From: own + " runArgs"})
		}
		for _, o := range ra.SecurityOpt {
			items = append(items, TrustItem{Kind: TrustSecurityOpt, Detail: o, From: own + " runArgs"})
		}
		for _, d := range ra.Devices {
			items = append(items, TrustItem{Kind: TrustDevice, Detail: d, From: own + " runArgs"})
		}
		switch n := ra.Network; {
		case n == "host":
			items = append(items, TrustItem{Kind: TrustHostNetwork, Detail: "--network=host", From: own + " runArgs"})
		case strings.HasPrefix(n, "container:"):
			items = append(items, TrustItem{Kind: TrustHostNamespace, Detail: strings.TrimPrefix(n, "container:"), From: own + " runArgs"})
		}
	}
	if r.mount.Type == "bind" && filepath.Clean(r.mount.Source) != filepath.Clean(local) {
		items = append(items, TrustItem{Kind: TrustBindMount, Detail: r.mount.Source + " to " + r.mount.Target + " (workspaceMount)", From: own})
	}
	// A detected config's build context is the folder Pitlane generated
	// it into, not a path the repository chose.
	if r.build != nil && r.kind != KindDetected && !within(local, r.build.Context) {
		items = append(items, TrustItem{Kind: TrustBuildContext, Detail: r.build.Context, From: own})
	}
	for _, f := range r.features {
		if f.Meta != nil {
			items = append(items, hostAccess(f.Meta, "feature "+f.Ref)...)
		}
	}
	return items
}

// metadataTrust lists what an image's metadata entries ask of the host.
func metadataTrust(metadata []*devcontainer.Config) []TrustItem {
	var items []TrustItem
	for _, e := range metadata {
		from := "image metadata"
		if e.ID != "" {
			from = "image metadata of " + e.ID
		}
		items = append(items, hostAccess(e, from)...)
	}
	return items
}

// within reports whether path is dir or inside it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// sameAccess reports whether two items ask for the same thing, whoever
// asks (an image built with a feature repeats the feature's request).
func sameAccess(a, b TrustItem) bool { return a.Kind == b.Kind && a.Detail == b.Detail }

// trustFile is Pitlane's record of what the user trusted: whole folders
// (`pitlane trust PATH`) and single configurations (answering yes, or
// --trust), each with the access it was trusted for.
type trustFile struct {
	Folders []string        `json:"folders,omitempty"`
	Configs []trustedConfig `json:"configs,omitempty"`
}

type trustedConfig struct {
	Source     string      `json:"source"`
	ConfigPath string      `json:"configPath,omitempty"`
	ConfigHash string      `json:"configHash,omitempty"`
	Items      []TrustItem `json:"items"`
	At         time.Time   `json:"at"`
}

// TrustRecord is the user's record of trust, kept in the config folder
// (trust.json, 0600). It needs no container engine.
type TrustRecord struct{ dir string }

// OpenTrust returns the trust record in configDir (default:
// DefaultConfigDir()).
func OpenTrust(configDir string) *TrustRecord {
	if configDir == "" {
		configDir = DefaultConfigDir()
	}
	return &TrustRecord{dir: configDir}
}

func (t *TrustRecord) path() string { return filepath.Join(t.dir, "trust.json") }

func (t *TrustRecord) read() trustFile {
	var tf trustFile
	if b, err := os.ReadFile(t.path()); err == nil {
		_ = json.Unmarshal(b, &tf)
	}
	return tf
}

// update changes the record atomically, one process at a time.
func (t *TrustRecord) update(f func(*trustFile)) error {
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return err
	}
	lf := flock.New(filepath.Join(t.dir, ".trust.lock"))
	if err := lf.Lock(); err != nil {
		return err
	}
	defer lf.Unlock()
	tf := t.read()
	f(&tf)
	b, err := json.MarshalIndent(tf, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(t.path(), b, 0o600)
}

// covers reports whether everything req asks was trusted before.
func (t *TrustRecord) covers(req *TrustRequest) bool {
	tf := t.read()
	if req.local {
		for _, dir := range tf.Folders {
			if within(dir, req.Source) {
				return true
			}
		}
	}
	for _, tc := range tf.Configs {
		if tc.Source != req.Source || tc.ConfigPath != req.ConfigPath || tc.ConfigHash != req.configHash {
			continue
		}
		all := true
		for _, it := range req.Items {
			if !slices.ContainsFunc(tc.Items, func(t TrustItem) bool { return sameAccess(t, it) }) {
				all = false
			}
		}
		if all {
			return true
		}
	}
	return false
}

// remember records that the user trusted req.
func (t *TrustRecord) remember(req *TrustRequest) error {
	return t.update(func(tf *trustFile) {
		for i, tc := range tf.Configs {
			if tc.Source == req.Source && tc.ConfigPath == req.ConfigPath && tc.ConfigHash == req.configHash {
				for _, it := range req.Items {
					if !slices.ContainsFunc(tc.Items, func(t TrustItem) bool { return sameAccess(t, it) }) {
						tf.Configs[i].Items = append(tf.Configs[i].Items, it)
					}
				}
				tf.Configs[i].At = time.Now().UTC()
				return
			}
		}
		tf.Configs = append(tf.Configs, trustedConfig{
			Source: req.Source, ConfigPath: req.ConfigPath, ConfigHash: req.configHash,
			Items: req.Items, At: time.Now().UTC(),
		})
	})
}

// checkTrust asks consent for the items that need it, unless the user
// trusted them before. Agreeing is remembered; refusing (or no consent)
// is a *TrustError.
func (m *Manager) checkTrust(ctx context.Context, consent Consent, name string, src Source, configPath, configHash string, items []TrustItem) error {
	if len(items) == 0 {
		return nil
	}
	req := &TrustRequest{
		Workspace: name, Source: src.URL, ConfigPath: configPath, Items: items,
		configHash: configHash, local: src.Local,
	}
	tr := OpenTrust(m.opts.ConfigDir)
	if tr.covers(req) {
		return nil
	}
	if consent != nil {
		ok, err := consent.Trust(ctx, req)
		if err != nil {
			return err
		}
		if ok {
			return tr.remember(req)
		}
	}
	return &TrustError{Request: req}
}

// Folder trusts every configuration of local source folders in dir and
// below, now and later: they run without asking. It returns the folder's
// absolute path.
func (t *TrustRecord) Folder(dir string) (string, error) {
	abs, err := source.LocalFolder(dir)
	if err != nil {
		return "", err
	}
	return abs, t.update(func(tf *trustFile) {
		if !slices.Contains(tf.Folders, abs) {
			tf.Folders = append(tf.Folders, abs)
		}
	})
}

// TrustedItem is one entry of the trust record, for `pitlane trust --list`.
type TrustedItem struct {
	// Folder is set for a trusted folder.
	Folder string `json:"folder,omitempty"`
	// Source, ConfigPath and Items are set for a trusted configuration.
	Source     string      `json:"source,omitempty"`
	ConfigPath string      `json:"configPath,omitempty"`
	Items      []TrustItem `json:"items,omitempty"`
	At         time.Time   `json:"at,omitzero"`
}

// List returns the trust record: folders first, then configurations.
func (t *TrustRecord) List() []TrustedItem {
	tf := t.read()
	out := []TrustedItem{}
	for _, f := range tf.Folders {
		out = append(out, TrustedItem{Folder: f})
	}
	for _, tc := range tf.Configs {
		out = append(out, TrustedItem{Source: tc.Source, ConfigPath: tc.ConfigPath, Items: tc.Items, At: tc.At})
	}
	return out
}

// Forget removes a trusted folder, or every trusted configuration of a
// source. It reports how many entries it removed.
func (t *TrustRecord) Forget(what string) (int, error) {
	keys := []string{what, source.Redact(what)}
	if abs, err := filepath.Abs(what); err == nil && !source.IsGitURL(what) {
		keys = append(keys, abs)
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			keys = append(keys, real)
		}
	}
	n := 0
	err := t.update(func(tf *trustFile) {
		tf.Folders = slices.DeleteFunc(tf.Folders, func(f string) bool {
			if slices.Contains(keys, f) {
				n++
				return true
			}
			return false
		})
		tf.Configs = slices.DeleteFunc(tf.Configs, func(tc trustedConfig) bool {
			if slices.Contains(keys, tc.Source) {
				n++
				return true
			}
			return false
		})
	})
	if err == nil && n == 0 {
		return 0, errors.New("nothing trusted matches " + what + "; `pitlane trust --list` shows what is")
	}
	return n, err
}
