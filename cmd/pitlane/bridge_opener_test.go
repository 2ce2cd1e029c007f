package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/internal/workspace"
)

func TestRegistryOpener(t *testing.T) {
	ws := &workspace.Workspace{Name: "api", SSHHost: "api.pitlane", Folder: "/workspaces/my api", RemoteUser: "dev"}
	var o registryOpener
	ids := strings.Join(o.IDEs(), " ")
	for _, want := range []string{"vscode", "cursor", "jetbrains:GO", "zed", "terminal"} {
		if !strings.Contains(ids, want) {
			t.Errorf("IDEs() = %s, lacks %s", ids, want)
		}
	}
	tests := []struct{ ide, uriPrefix, cmd0 string }{
		{"vscode", "vscode-remote://ssh-remote+api.pitlane/workspaces/my%20api", ""},
		{"jetbrains:GO", "jetbrains-gateway://connect#", ""},
		{"zed", "ssh://api.pitlane/workspaces/my%20api", ""},
		{"terminal", "", "ssh"},
	}
	for _, tc := range tests {
		res, err := o.Open(ws, tc.ide)
		if err != nil {
			t.Errorf("Open(%s): %v", tc.ide, err)
			continue
		}
		if !strings.HasPrefix(res.URI, tc.uriPrefix) || res.SSHHost != "api.pitlane" || res.Folder != ws.Folder {
			t.Errorf("Open(%s) = %+v", tc.ide, res)
		}
		if tc.cmd0 != "" && (len(res.Command) == 0 || res.Command[0] != tc.cmd0) {
			t.Errorf("Open(%s) command %q", tc.ide, res.Command)
		}
	}
	if _, err := o.Open(ws, "notepad"); !errors.Is(err, bridge.ErrUnknownIDE) {
		t.Errorf("unknown IDE: %v", err)
	}
}
