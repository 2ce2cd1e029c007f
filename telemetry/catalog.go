package telemetry

import (
	"regexp"
	"runtime"
	"strings"
)

// Other is the value an attribute takes when the real value is not in its
// documented set. Mapping unknown input to Other (instead of passing it
// through) is what keeps free text out of the exported data.
const Other = "other"

// Attribute documents one attribute key: where it appears and which values
// it may take. Values is nil for the few attributes that are not an
// enumeration (the install id, the version); Format says what they look
// like instead.
type Attribute struct {
	Key         string
	Values      []string
	Format      string
	Description string
}

// Instrument documents one metric instrument Pitlane records.
type Instrument struct {
	Name        string
	Kind        string // "counter" or "histogram"
	Unit        string
	Description string
	// Attributes are the data point attribute keys, in documented order.
	Attributes []string
}

// Attribute keys.
const (
	keyOutcome    = "outcome"
	keyConfigKind = "config_kind"
	keyFailedStep = "failed_step"
	keyIDE        = "ide"

	keyServiceName    = "service.name"
	keyServiceVersion = "service.version"
	keyOSType         = "os.type"
	keyHostArch       = "host.arch"
	keyClient         = "pitlane.client"
	keyInstallID      = "pitlane.install_id"
)

// Instrument names.
const (
	instCreations        = "pitlane.workspace.creations"
	instCreationDuration = "pitlane.workspace.creation.duration"
	instStarts           = "pitlane.workspace.starts"
	instStops            = "pitlane.workspace.stops"
	instDeletions        = "pitlane.workspace.deletions"
	instIDEOpens         = "pitlane.ide.opens"
)

// ScopeName is the instrumentation scope of every instrument.
const ScopeName = "github.com/pitlane/pitlane/telemetry"

// Instruments is the complete list of what Pitlane records. docs/telemetry.md
// documents exactly this list; a test keeps the two equal, and another test
// checks that an export contains nothing else.
var Instruments = []Instrument{
	{instCreations, "counter", "{creation}", "Workspace creations, successful or not.", []string{keyOutcome, keyConfigKind, keyFailedStep}},
	{instCreationDuration, "histogram", "s", "How long a workspace creation took, from the request to a running container with its setup hooks done.", []string{keyOutcome, keyConfigKind}},
	{instStarts, "counter", "{start}", "Workspaces started (a stopped workspace brought back up).", nil},
	{instStops, "counter", "{stop}", "Workspaces stopped.", nil},
	{instDeletions, "counter", "{deletion}", "Workspaces deleted.", nil},
	{instIDEOpens, "counter", "{open}", "A workspace opened in an editor.", []string{keyIDE}},
}

// DataPointAttributes are the attributes instruments carry, with their
// allowed values.
var DataPointAttributes = []Attribute{
	{Key: keyOutcome, Values: []string{"success", "hooks_failed", "failure", Other},
		Description: "`success`: the workspace runs and its setup hooks passed; `hooks_failed`: the workspace exists but a setup hook failed; `failure`: creation failed and was rolled back."},
	{Key: keyConfigKind, Values: []string{"devcontainer", "dockerfile", "image", "detected", "default", Other},
		Description: "Where the container definition came from: a devcontainer.json, a Dockerfile without devcontainer.json, an image name, or Pitlane's default image."},
	{Key: keyFailedStep, Values: []string{"none", "source", "config", "build", "container", "hooks", Other},
		Description: "The step that failed: getting the source, reading the configuration, building the image, creating the container, running setup hooks; `none` when nothing failed."},
	{Key: keyIDE, Values: ideNames,
		Description: "The editor a workspace was opened in, from Pitlane's fixed list of supported editors."},
}

// ResourceAttributes describe the process that sends, once per export.
var ResourceAttributes = []Attribute{
	{Key: keyServiceName, Values: []string{"pitlane"}, Description: "Always `pitlane`."},
	{Key: keyServiceVersion, Format: "a release version such as `1.4.0` or `1.5.0-rc.1`, or `dev`",
		Description: "The Pitlane version; anything that is not a plain release version is sent as `dev`."},
	{Key: keyOSType, Values: []string{"linux", "darwin", "windows", "freebsd", Other}, Description: "The operating system."},
	{Key: keyHostArch, Values: []string{"amd64", "arm64", "386", "arm", "riscv64", "ppc64le", "s390x", Other}, Description: "The processor architecture."},
	{Key: keyClient, Values: []string{"cli", "vscode", "jetbrains", Other}, Description: "Which front end ran Pitlane: the command line, the VS Code extension or the JetBrains plugin."},
	{Key: keyInstallID, Format: "a random UUID (version 4)",
		Description: "A random number made when telemetry is first used, stored in the config directory. It is not derived from anything on the machine; `pitlane telemetry reset-id` replaces it."},
}

// ideNames is the fixed list of editors the ide attribute may name.
var ideNames = []string{
	"vscode", "vscode-insiders", "cursor", "windsurf", "vscodium",
	"intellij", "goland", "pycharm", "webstorm", "phpstorm", "rubymine", "clion", "rider", "rustrover", "jetbrains",
	"zed", "terminal", Other,
}

var ideAliases = map[string]string{
	"code":              "vscode",
	"code-insiders":     "vscode-insiders",
	"codium":            "vscodium",
	"idea":              "intellij",
	"intellij-idea":     "intellij",
	"gateway":           "jetbrains",
	"jetbrains-gateway": "jetbrains",
	"ssh":               "terminal",
	"shell":             "terminal",
}

// allowed returns v when it is one of the values of the attribute key,
// and Other otherwise.
func allowed(key, v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	for _, a := range DataPointAttributes {
		if a.Key == key {
			return oneOf(v, a.Values)
		}
	}
	for _, a := range ResourceAttributes {
		if a.Key == key {
			return oneOf(v, a.Values)
		}
	}
	return Other
}

func oneOf(v string, set []string) string {
	for _, s := range set {
		if v == s {
			return v
		}
	}
	return Other
}

// normalizeIDE maps an editor id to the fixed list.
func normalizeIDE(ide string) string {
	ide = strings.ToLower(strings.TrimSpace(ide))
	if a, ok := ideAliases[ide]; ok {
		ide = a
	}
	return allowed(keyIDE, ide)
}

// normalizeClient maps a client name to cli, vscode, jetbrains or other.
func normalizeClient(c string) string {
	return allowed(keyClient, c)
}

// normalizeFailedStep maps an empty step to "none".
func normalizeFailedStep(s string) string {
	if strings.TrimSpace(s) == "" {
		return "none"
	}
	return allowed(keyFailedStep, s)
}

var releaseRE = regexp.MustCompile(`^v?(\d{1,4}\.\d{1,4}\.\d{1,4}(-(alpha|beta|rc)(\.\d{1,4})?)?)$`)

// normalizeVersion keeps plain release versions and turns anything else
// (development builds, versions with commit hashes or custom text) into
// "dev".
func normalizeVersion(v string) string {
	if m := releaseRE.FindStringSubmatch(strings.TrimSpace(v)); m != nil {
		return m[1]
	}
	return "dev"
}

func osType() string   { return allowed(keyOSType, runtime.GOOS) }
func hostArch() string { return allowed(keyHostArch, runtime.GOARCH) }
