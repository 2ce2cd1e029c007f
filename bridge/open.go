package bridge

import (
	"fmt"
	"net/url"

	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/protocol"
)

// VSCodeOpener opens workspaces in VS Code through its Remote - SSH
// support. It is the default Opener until the IDE registry is wired in.
type VSCodeOpener struct{}

// IDEs implements Opener.
func (VSCodeOpener) IDEs() []string { return []string{"vscode"} }

// Open implements Opener.
func (VSCodeOpener) Open(ws *workspace.Workspace, ide string) (protocol.OpenResult, error) {
	if ide != "vscode" {
		return protocol.OpenResult{}, fmt.Errorf("%w %q: this pitlane opens only vscode", ErrUnknownIDE, ide)
	}
	uri := "vscode-remote://ssh-remote+" + ws.SSHHost + (&url.URL{Path: ws.Folder}).EscapedPath()
	return protocol.OpenResult{
		IDE:     ide,
		URI:     uri,
		Command: []string{"code", "--folder-uri", uri},
		SSHHost: ws.SSHHost,
		Folder:  ws.Folder,
	}, nil
}
