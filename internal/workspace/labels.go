package workspace

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pitlane/pitlane/internal/devcontainer"
)

// Labels Pitlane puts on a workspace container. Together they are the
// workspace's record: List needs nothing else.
const (
	LabelWorkspace   = "dev.pitlane.workspace"
	LabelInstance    = "dev.pitlane.instance"
	LabelSource      = "dev.pitlane.source"
	LabelRef         = "dev.pitlane.ref"
	LabelLocal       = "dev.pitlane.local"
	LabelLocalFolder = "dev.pitlane.local-folder"
	LabelFolder      = "dev.pitlane.folder"
	LabelRemoteUser  = "dev.pitlane.remote-user"
	LabelImage       = "dev.pitlane.image"
	LabelBuiltImage  = "dev.pitlane.built-image"
	LabelConfigKind  = "dev.pitlane.config-kind"
	LabelConfigPath  = "dev.pitlane.config-path"
	LabelConfigHash  = "dev.pitlane.config-hash"
	LabelConfig      = "dev.pitlane.config"
	LabelPorts       = "dev.pitlane.ports"
	LabelCreated     = "dev.pitlane.created"
)

// record is what encodeLabels stores beyond the Workspace fields.
type record struct {
	ws         *Workspace
	instance   string
	builtImage string
	configHash string
	config     *devcontainer.Config
	cacheKey   string
}

// encodeLabels returns the labels of a workspace container. Every label
// Pitlane reads is set, empty when it has no value: a container inherits
// its image's labels, and an image must not be able to speak for Pitlane
// (say, naming another image as the one to remove with the workspace).
func encodeLabels(r record) map[string]string {
	ws := r.ws
	l := map[string]string{
		LabelWorkspace:   ws.Name,
		LabelInstance:    r.instance,
		LabelSource:      ws.Source.URL,
		LabelRef:         ws.Source.Ref,
		LabelLocal:       strconv.FormatBool(ws.Source.Local),
		LabelLocalFolder: ws.LocalFolder,
		LabelFolder:      ws.Folder,
		LabelRemoteUser:  ws.RemoteUser,
		LabelImage:       ws.Image,
		LabelBuiltImage:  r.builtImage,
		LabelConfigKind:  string(ws.ConfigKind),
		LabelConfigPath:  ws.ConfigPath,
		LabelConfigHash:  r.configHash,
		LabelConfig:      "",
		LabelPorts:       "",
		LabelCreated:     ws.CreatedAt.UTC().Format(time.RFC3339),
		LabelCacheKey:    r.cacheKey,
		LabelBaked:       "",
		LabelBakedFiles:  "",
		// Set for a Compose workspace (see composeSetup).
		LabelComposeProject: "",
		LabelComposeService: "",
		LabelComposeStop:    "",
		LabelComposeImages:  "",
	}
	if r.config != nil {
		if b, err := json.Marshal(r.config); err == nil {
			l[LabelConfig] = string(b)
		}
	}
	if len(ws.Ports) > 0 {
		ps := make([]string, len(ws.Ports))
		for i, p := range ws.Ports {
			ps[i] = strconv.Itoa(p)
		}
		l[LabelPorts] = strings.Join(ps, ",")
	}
	return l
}

func decodeLabels(l map[string]string) *Workspace {
	ws := &Workspace{
		Name:        l[LabelWorkspace],
		Source:      Source{URL: l[LabelSource], Ref: l[LabelRef], Local: l[LabelLocal] == "true"},
		LocalFolder: l[LabelLocalFolder],
		Folder:      l[LabelFolder],
		RemoteUser:  l[LabelRemoteUser],
		Image:       l[LabelImage],
		ConfigKind:  ConfigKind(l[LabelConfigKind]),
		ConfigPath:  l[LabelConfigPath],
	}
	ws.SSHHost = ws.Name + "." + SSHDomain
	if t, err := time.Parse(time.RFC3339, l[LabelCreated]); err == nil {
		ws.CreatedAt = t
	}
	for _, p := range strings.Split(l[LabelPorts], ",") {
		if n, err := strconv.Atoi(p); err == nil {
			ws.Ports = append(ws.Ports, n)
		}
	}
	return ws
}

// decodeConfig returns the config stored on a container (with
// ${localEnv:...} as written), or an empty one.
func decodeConfig(l map[string]string) *devcontainer.Config {
	var cfg devcontainer.Config
	if s := l[LabelConfig]; s != "" {
		_ = json.Unmarshal([]byte(s), &cfg)
	}
	return &cfg
}

func sortByName(ws []*Workspace) {
	sort.Slice(ws, func(i, j int) bool { return ws[i].Name < ws[j].Name })
}

func sortStrings(s []string) { sort.Strings(s) }
