package main

import (
	"fmt"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/extensions"
	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/protocol"
)

// The bridge opens workspaces with the same IDE registry as `pitlane open`.
func init() {
	bridgeOpener = func(*app) bridge.Opener { return registryOpener{} }
}

// registryOpener answers workspace/open from the extensions registry.
type registryOpener struct{}

func (registryOpener) IDEs() []string { return extensions.IDs() }

func (registryOpener) Open(ws *workspace.Workspace, id string) (protocol.OpenResult, error) {
	ide, err := extensions.Lookup(id)
	if err != nil {
		return protocol.OpenResult{}, fmt.Errorf("%w: %v", bridge.ErrUnknownIDE, err)
	}
	host := ws.SSHHost
	if host == "" {
		host = ws.Name + "." + workspace.SSHDomain
	}
	t := ide.Target(host, ws.Folder, ws.RemoteUser)
	res := protocol.OpenResult{IDE: ide.ID, URI: t.URI, Command: t.Command, SSHHost: t.SSHHost, Folder: t.Folder}
	if ide.IsTerminal() {
		res.Command = []string{"ssh", host}
	}
	return res, nil
}
