// Package extensions knows the editors Pitlane opens workspaces in: for
// each one, the command line or URL that opens a workspace folder over SSH
// (NAME.pitlane), how to tell whether it is installed, and what to tell the
// user when it is not. It also remembers the user's default editor.
package extensions

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// ErrUnknownIDE is returned for an IDE identifier Pitlane does not know.
var ErrUnknownIDE = errors.New("unknown IDE")

// ErrNotInstalled is returned by Detect's callers when an IDE is missing;
// the wrapping error says how to install it.
var ErrNotInstalled = errors.New("IDE not found")

// Terminal is the pseudo-IDE that opens a shell with `pitlane ssh`.
const Terminal = "terminal"

// Target is how to open one workspace in one IDE.
type Target struct {
	IDE string
	// URI is the URL that opens the workspace, for IDEs that take one
	// (vscode-remote://ssh-remote+HOST/FOLDER, jetbrains-gateway://...,
	// ssh://HOST/FOLDER for Zed).
	URI string
	// Command is the command line that opens it (empty for URL-only
	// IDEs and for the terminal).
	Command []string
	// SSHHost and Folder are what the IDE connects to.
	SSHHost string
	Folder  string
}

// IDE is one supported editor.
type IDE struct {
	// ID is what --ide takes: vscode, cursor, windsurf, vscodium,
	// jetbrains:PRODUCT, zed, terminal.
	ID   string
	Name string
	kind kind
	// clis are the command names to look for on PATH, in order.
	clis []string
	// macApps are command paths inside macOS application bundles.
	macApps []string
	// product is the JetBrains product code (IU, PY, GO, ...).
	product string
	install string
}

type kind int

const (
	kindVSCode kind = iota // VS Code and its forks: --folder-uri vscode-remote://
	kindJetBrains
	kindZed
	kindTerminal
)

// JetBrainsProducts maps the product codes accepted after "jetbrains:" to
// product names.
var JetBrainsProducts = map[string]string{
	"IU": "IntelliJ IDEA Ultimate", "IC": "IntelliJ IDEA Community", "PY": "PyCharm",
	"GO": "GoLand", "WS": "WebStorm", "PS": "PhpStorm", "RM": "RubyMine",
	"CL": "CLion", "RD": "Rider", "RR": "RustRover",
}

var vscodeLike = []*IDE{
	{ID: "vscode", Name: "Visual Studio Code", kind: kindVSCode, clis: []string{"code"},
		macApps: []string{"/Applications/Visual Studio Code.app/Contents/Resources/app/bin/code"},
		install: "install VS Code with its Remote - SSH extension, and put `code` on PATH (Command Palette: Shell Command: Install 'code' command in PATH)"},
	{ID: "cursor", Name: "Cursor", kind: kindVSCode, clis: []string{"cursor"},
		macApps: []string{"/Applications/Cursor.app/Contents/Resources/app/bin/cursor"},
		install: "install Cursor and put its `cursor` command on PATH (Command Palette: Shell Command: Install 'cursor' command)"},
	{ID: "windsurf", Name: "Windsurf", kind: kindVSCode, clis: []string{"windsurf"},
		macApps: []string{"/Applications/Windsurf.app/Contents/Resources/app/bin/windsurf"},
		install: "install Windsurf and put its `windsurf` command on PATH"},
	{ID: "vscodium", Name: "VSCodium", kind: kindVSCode, clis: []string{"codium", "vscodium"},
		macApps: []string{"/Applications/VSCodium.app/Contents/Resources/app/bin/codium"},
		install: "install VSCodium with the Open Remote - SSH extension, and put `codium` on PATH"},
}

var zed = &IDE{ID: "zed", Name: "Zed", kind: kindZed, clis: []string{"zed", "zeditor"},
	macApps: []string{"/Applications/Zed.app/Contents/MacOS/cli"},
	install: "install Zed and its `zed` command line tool (Zed menu: Install CLI)"}

var terminal = &IDE{ID: Terminal, Name: "a terminal (pitlane ssh)", kind: kindTerminal}

// IDs lists the identifiers --ide accepts, JetBrains products spelled out.
func IDs() []string {
	var ids []string
	for _, i := range vscodeLike {
		ids = append(ids, i.ID)
	}
	var codes []string
	for c := range JetBrainsProducts {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		ids = append(ids, "jetbrains:"+c)
	}
	return append(ids, zed.ID, Terminal)
}

// Lookup returns the IDE for an identifier. "jetbrains" alone means
// IntelliJ IDEA Ultimate.
func Lookup(id string) (*IDE, error) {
	id = strings.TrimSpace(id)
	for _, i := range vscodeLike {
		if strings.EqualFold(i.ID, id) {
			return i, nil
		}
	}
	switch strings.ToLower(id) {
	case "code":
		return vscodeLike[0], nil
	case "zed":
		return zed, nil
	case Terminal, "ssh", "shell":
		return terminal, nil
	}
	lower := strings.ToLower(id)
	if lower == "jetbrains" || strings.HasPrefix(lower, "jetbrains:") {
		code := "IU"
		if _, p, ok := strings.Cut(id, ":"); ok {
			code = strings.ToUpper(p)
		}
		name, ok := JetBrainsProducts[code]
		if !ok {
			return nil, fmt.Errorf("%w: %q: JetBrains products are %s", ErrUnknownIDE, id, strings.Join(productCodes(), ", "))
		}
		return &IDE{
			ID: "jetbrains:" + code, Name: name + " (JetBrains Gateway)", kind: kindJetBrains, product: code,
			clis:    []string{"gateway", "jetbrains-gateway"},
			macApps: []string{"/Applications/JetBrains Gateway.app/Contents/MacOS/gateway"},
			install: "install JetBrains Gateway (or the JetBrains Toolbox App, which registers jetbrains-gateway:// links)",
		}, nil
	}
	return nil, fmt.Errorf("%w: %q: use one of %s", ErrUnknownIDE, id, strings.Join(IDs(), ", "))
}

func productCodes() []string {
	var codes []string
	for c := range JetBrainsProducts {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return codes
}

// IsURLOnly reports whether the IDE is opened through a URL handler
// rather than its own command.
func (i *IDE) IsURLOnly() bool { return i.kind == kindJetBrains }

// IsTerminal reports whether the "IDE" is a shell in the current terminal.
func (i *IDE) IsTerminal() bool { return i.kind == kindTerminal }

// Target says how to open folder on host (NAME.pitlane) as user.
func (i *IDE) Target(host, folder, user string) Target {
	if folder == "" {
		folder = "/"
	}
	t := Target{IDE: i.ID, SSHHost: host, Folder: folder}
	cli := ""
	if len(i.clis) > 0 {
		cli = i.clis[0]
		if p, ok := i.Detect(); ok {
			cli = p
		}
	}
	switch i.kind {
	case kindVSCode:
		t.URI = "vscode-remote://ssh-remote+" + host + escapePath(folder)
		t.Command = []string{cli, "--folder-uri", t.URI}
	case kindZed:
		t.URI = "ssh://" + host + escapePath(folder)
		t.Command = []string{cli, t.URI}
	case kindJetBrains:
		// Gateway reads the fragment as form values.
		v := url.Values{}
		v.Set("type", "ssh")
		v.Set("deploy", "true")
		v.Set("host", host)
		v.Set("port", "22")
		if user != "" {
			v.Set("user", user)
		}
		v.Set("projectPath", folder)
		t.URI = "jetbrains-gateway://connect#" + v.Encode()
	}
	return t
}

func escapePath(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

// Detect finds the IDE's command on PATH or in its usual macOS location.
// For JetBrains products a registered URL handler also counts.
func (i *IDE) Detect() (string, bool) {
	if i.kind == kindTerminal {
		p, err := exec.LookPath("ssh")
		return p, err == nil
	}
	for _, c := range i.clis {
		if p, err := exec.LookPath(c); err == nil {
			return p, true
		}
	}
	if runtime.GOOS == "darwin" {
		for _, p := range i.macApps {
			if _, err := os.Stat(p); err == nil {
				return p, true
			}
		}
	}
	return "", false
}

// Missing is the error for an IDE that Detect did not find.
func (i *IDE) Missing() error {
	if i.kind == kindTerminal {
		return fmt.Errorf("%w: no ssh client on PATH: install OpenSSH (Debian/Ubuntu: apt-get install openssh-client)", ErrNotInstalled)
	}
	return fmt.Errorf("%w: %s is not installed or its command (%s) is not on PATH: %s; or pick another editor with --ide (%s)",
		ErrNotInstalled, i.Name, strings.Join(i.clis, ", "), i.install, strings.Join(IDs(), ", "))
}

// URLOpener is the command that hands a URL to the desktop: open on
// macOS, xdg-open elsewhere.
func URLOpener() (string, error) {
	name := "xdg-open"
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		return "rundll32", nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("cannot open URLs here: %s is not on PATH", name)
	}
	return p, nil
}

// defaultFile holds the remembered default IDE in Pitlane's config dir.
func defaultFile(configDir string) string { return filepath.Join(configDir, "default-ide") }

// Default returns the remembered default IDE, or, when none is
// remembered, the first installed of VS Code, Cursor, Windsurf, VSCodium
// and Zed, or the terminal.
func Default(configDir string) (*IDE, error) {
	if b, err := os.ReadFile(defaultFile(configDir)); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return Lookup(id)
		}
	}
	for _, i := range append(append([]*IDE{}, vscodeLike...), zed) {
		if _, ok := i.Detect(); ok {
			return i, nil
		}
	}
	return terminal, nil
}

// SetDefault remembers id as the default IDE.
func SetDefault(configDir, id string) error {
	ide, err := Lookup(id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(configDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(configDir, ".default-ide-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(ide.ID + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), defaultFile(configDir))
}
