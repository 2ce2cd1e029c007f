package source

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// RemoteHead returns the commit that branch (the remote's default branch
// when empty) points to in the repository at url, asking the remote with
// the system git (`git ls-remote`), so the user's credential helpers and
// SSH configuration apply.
func RemoteHead(ctx context.Context, url, branch string) (string, error) {
	ref := "HEAD"
	if branch != "" {
		ref = "refs/heads/" + branch
	}
	cmd := exec.CommandContext(ctx, "git", "ls-remote", "--", url, ref)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("git ls-remote %s failed: %s", Redact(url), redactIn(strings.TrimSpace(string(out)), url))
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] == ref {
			return f[0], nil
		}
	}
	if branch != "" {
		return "", fmt.Errorf("%s has no branch %s", Redact(url), branch)
	}
	return "", fmt.Errorf("%s has no default branch (HEAD)", Redact(url))
}
