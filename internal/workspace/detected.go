package workspace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pitlane/pitlane/internal/detect"
	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/devcontainer/generate"
	"github.com/pitlane/pitlane/internal/source"
)

// KindDetected: no devcontainer.json and no Dockerfile; the container is
// built from a config generated from what the repository contains.
const KindDetected ConfigKind = "detected"

// HostCertDir holds the CA certificates this machine trusts beyond the
// system's own (Debian's and Ubuntu's place for local CAs). Generated
// images trust them too, so a TLS-inspecting proxy works inside as
// outside. A variable so tests can point it elsewhere.
var HostCertDir = "/usr/local/share/ca-certificates"

// DetectedDir is the folder where the generated config of a workspace
// built from one is kept.
func (m *Manager) DetectedDir(name string) string {
	return filepath.Join(m.wsDir(name), "detected")
}

// Detection is what Pitlane would use for a source, worked out before
// create: its own config, or one generated from the repository.
type Detection struct {
	Kind ConfigKind `json:"kind"`
	// ConfigPath is the source's devcontainer.json, when it has one.
	ConfigPath string `json:"configPath,omitempty"`
	// Summary names the detected setup ("Go 1.24 + PostgreSQL").
	Summary string `json:"summary,omitempty"`
	// Message is one sentence for the user before create.
	Message string `json:"message"`
	// Report is what the detector found (also when the source has a
	// config, for doctor and test).
	Report *detect.Report `json:"report"`
	// Generated is the config generated for a source without one.
	Generated *generate.Result `json:"generated,omitempty"`
}

// Detect reports what Create would use for a source, without creating
// anything. Git sources are cloned into a temporary folder for this.
func (m *Manager) Detect(ctx context.Context, src string) (*Detection, error) {
	return Detect(ctx, src, m.opts.DefaultImage)
}

// Detect reports what a Manager whose default image is defaultImage would
// use for a source. It reads files only.
func Detect(ctx context.Context, src, defaultImage string) (*Detection, error) {
	var out *Detection
	err := withSource(ctx, src, func(local string) error {
		var err error
		out, err = detectLocal(local, defaultImage)
		return err
	})
	return out, err
}

func detectLocal(local, defaultImage string) (*Detection, error) {
	rep, err := detect.Dir(local)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSourceInvalid, err)
	}
	d := &Detection{Report: rep}
	found, err := devcontainer.Find(local)
	if err != nil {
		return nil, err
	}
	switch {
	case len(found) > 0:
		d.Kind, d.ConfigPath = KindDevcontainer, found[0]
		d.Message = "using " + found[0]
	case isFile(filepath.Join(local, "Dockerfile")):
		d.Kind = KindDockerfile
		d.Message = "no devcontainer.json: Pitlane will build the Dockerfile at the repository root"
	case rep.Empty():
		d.Kind = KindDefault
		d.Message = "no devcontainer.json, and no language or service found: Pitlane will use the default image " + defaultImage
	default:
		res, err := generate.Generate(rep, generate.Options{Name: filepath.Base(local), BaseImage: defaultImage})
		if err != nil {
			return nil, err
		}
		d.Kind, d.Summary, d.Generated = KindDetected, res.Summary, res
		d.Message = "no devcontainer.json: Pitlane will use a detected " + res.Summary + " setup"
	}
	return d, nil
}

// GenerateConfig generates a config for the source at local (a folder),
// whether or not it has one; certs adds the host's extra CA certificates
// (for configs Pitlane builds itself, not for configs written into a
// repository).
func GenerateConfig(local string, certs bool) (*detect.Report, *generate.Result, error) {
	rep, err := detect.Dir(local)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSourceInvalid, err)
	}
	res, err := generate.Generate(rep, generate.Options{Name: filepath.Base(local), Certs: certs})
	return rep, res, err
}

// detectedPlan generates a config for a source that has none, keeps it in
// dir and returns the plan that builds it. A source where nothing is
// detected gets the default image, as before.
func (m *Manager) detectedPlan(local, dir string, p Progress) (*plan, error) {
	rep, err := detect.Dir(local)
	if err != nil {
		return nil, err
	}
	if rep.Empty() {
		p.Output("no devcontainer.json or Dockerfile found, and no language or service: using the default image " + m.opts.DefaultImage)
		return &plan{kind: KindDefault, cfg: &devcontainer.Config{Image: m.opts.DefaultImage}, image: m.opts.DefaultImage}, nil
	}
	certs := hostCerts()
	res, err := generate.Generate(rep, generate.Options{Name: filepath.Base(local), BaseImage: m.opts.DefaultImage, Certs: len(certs) > 0})
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(res.Files))
	for name := range res.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(res.Files[name]), 0o644); err != nil {
			return nil, err
		}
	}
	if len(certs) > 0 {
		if err := copyCerts(certs, filepath.Join(dir, generate.CertsDir)); err != nil {
			return nil, fmt.Errorf("copying this machine's CA certificates into the build context: %w", err)
		}
	}
	where := fmt.Sprintf("`pitlane config %s --generate` prints it", local)
	if within(m.opts.DataDir, dir) {
		where = fmt.Sprintf("generated into %s; `pitlane config %s --generate --write` puts it into the repository", dir, local)
	}
	p.Output(fmt.Sprintf("no devcontainer.json or Dockerfile found: using a detected %s setup (%s)", res.Summary, where))
	for _, c := range res.Choices {
		line := fmt.Sprintf("  %s via %s", c.What, c.Via)
		if c.From.File != "" {
			line += " (" + c.From.String() + ")"
		}
		p.Output(line)
	}
	for _, w := range res.Warnings {
		p.Output("warning: " + w)
	}
	cfgPath := filepath.Join(dir, generate.ConfigFile)
	data := []byte(res.Files[generate.ConfigFile])
	cfg, err := devcontainer.Parse(cfgPath, data)
	if err != nil {
		return nil, fmt.Errorf("the generated config does not parse (a bug in Pitlane): %w", err)
	}
	sum := sha256.Sum256(data)
	pl := &plan{kind: KindDetected, cfg: cfg, configHash: hex.EncodeToString(sum[:8])}
	if pl.build, err = cfg.BuildSpec(dir); err != nil {
		return nil, err
	}
	return pl, nil
}

// hostCerts lists the CA certificates in HostCertDir.
func hostCerts() []string {
	var out []string
	_ = filepath.WalkDir(HostCertDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".crt") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func copyCerts(certs []string, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, c := range certs {
		data, err := os.ReadFile(c)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("%02d-%s", i, filepath.Base(c))
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// withSource runs fn on a local folder of src: the folder itself, or a
// temporary clone of a git URL.
func withSource(ctx context.Context, src string, fn func(local string) error) error {
	if source.IsGitURL(src) {
		tmp, err := os.MkdirTemp("", "pitlane-detect-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		local := filepath.Join(tmp, source.BaseName(src))
		if err := source.Clone(ctx, src, "", local, func(string) {}); err != nil {
			return fmt.Errorf("%w: %w", ErrSourceInvalid, err)
		}
		return fn(local)
	}
	local, err := source.LocalFolder(src)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSourceInvalid, err)
	}
	return fn(local)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
