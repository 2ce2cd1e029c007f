package bridge_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/pitlane/pitlane/internal/ports"
	"github.com/pitlane/pitlane/internal/workspace"
)

// testAgentPath is where enginePorts copies the agent into containers.
const testAgentPath = "/tmp/pitlane-test-agent"

// enginePorts reaches the ports of the real engine's workspaces through
// the agent, as `pitlane bridge` does, with this run's pitlane binary
// copied into each container (the CLI's checksummed install is tested
// with the binary).
func enginePorts(t testing.TB, m *workspace.Manager) *ports.Agent {
	bin := pitlaneBinary(t)
	var mu sync.Mutex
	copied := map[string]bool{}
	return &ports.Agent{
		Config: m.DevcontainerConfig,
		Run: func(ctx context.Context, name string, args []string, stdin io.Reader, stdout io.Writer) error {
			ws, err := m.Get(ctx, name)
			if err != nil {
				return err
			}
			mu.Lock()
			if !copied[ws.ContainerID] {
				data, err := os.ReadFile(bin)
				if err == nil {
					err = m.CopyFile(ctx, name, testAgentPath, data, 0o755)
				}
				if err != nil {
					mu.Unlock()
					return err
				}
				copied[ws.ContainerID] = true
			}
			mu.Unlock()
			var errb bytes.Buffer
			code, err := m.Exec(ctx, name, workspace.ExecOptions{
				Cmd: append([]string{testAgentPath, "agent"}, args...), Dir: "/",
				Stdin: stdin, Stdout: stdout, Stderr: &errb, Bare: true,
			})
			if err != nil {
				return err
			}
			if code != 0 {
				return fmt.Errorf("agent %s: exit status %d: %s", strings.Join(args, " "), code, strings.TrimSpace(errb.String()))
			}
			return nil
		},
	}
}
