package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pitlane/pitlane/internal/sshconfig"
	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newSSHCommand) }

type sshOptions struct {
	stdio        bool
	forwardAgent bool
}

func newSSHCommand(a *app) *cobra.Command {
	var opts sshOptions
	cmd := &cobra.Command{
		Use:   "ssh NAME [-- COMMAND [ARG...]]",
		Short: "Open a shell, or run a command, in a workspace over SSH",
		Long: `Open an interactive shell in a workspace, or run one command there, with
your OpenSSH client. The exit status of the command is passed through.

Your ssh-agent is forwarded with -A (so git over SSH and SSH commit
signing work inside), or on every connection after
'pitlane settings forward-agent true'. git over HTTPS gets your
credentials without it (see pitlane credentials).

With --stdio, serve as the ProxyCommand of Pitlane's ssh_config: connect the
SSH stream on standard input and output to the workspace NAME.pitlane,
starting it if it is stopped.`,
		Example: `  pitlane ssh api
  pitlane ssh -A api -- git push
  pitlane ssh api -- make test
  ssh api.pitlane              # the same, after pitlane ssh-config`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.stdio {
				if len(args) != 1 {
					return errors.New("--stdio takes exactly one host name (NAME.pitlane)")
				}
				return connectAgent(cmd.Context(), a, args[0], a.stdin, a.stdout, a.stderr)
			}
			return runSSH(cmd.Context(), a, args[0], args[1:], opts)
		},
	}
	cmd.Flags().BoolVar(&opts.stdio, "stdio", false, "serve as an OpenSSH ProxyCommand on standard input and output")
	cmd.Flags().BoolVarP(&opts.forwardAgent, "forward-agent", "A", false, "forward your ssh-agent into the workspace (for git push)")
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// runSSH runs the user's OpenSSH client against Pitlane's own ssh_config,
// so it works whether or not ~/.ssh/config includes it.
func runSSH(ctx context.Context, a *app, name string, command []string, opts sshOptions) error {
	name = workspaceName(name)
	if err := workspace.ValidateName(name); err != nil {
		return err
	}
	_, _, err := a.workspace(ctx, name)
	if err != nil {
		return err
	}
	own, _, err := sshconfig.WriteOwn(sshConfigOptions(a.sshHosts(ctx)))
	if err != nil {
		return err
	}
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		return errors.New("no ssh client on PATH: install OpenSSH (Debian/Ubuntu: apt-get install openssh-client), or use `pitlane exec`")
	}
	args := []string{"-F", own}
	if opts.forwardAgent {
		args = append(args, "-A")
	}
	if len(command) > 0 && isTerminal(a.stdin) && isTerminal(a.stdout) {
		// Like `docker exec -it`: a command run from a terminal gets
		// one (OpenSSH alone would not allocate it for a command).
		args = append(args, "-t", "-o", "LogLevel=ERROR")
	}
	args = append(args, "--", name+"."+workspace.SSHDomain)
	if len(command) > 0 && command[0] == "--" {
		command = command[1:]
	}
	if len(command) > 0 {
		// OpenSSH joins the words into one line for the remote shell;
		// quote them so each arrives as it was given.
		quoted := make([]string, len(command))
		for i, w := range command {
			quoted[i] = shellWord(w)
		}
		args = append(args, strings.Join(quoted, " "))
	}
	c := exec.CommandContext(ctx, sshBin, args...)
	c.Stdin, c.Stdout, c.Stderr = a.stdin, a.stdout, a.stderr
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() >= 0 {
			return exitError{ee.ExitCode()}
		}
		return fmt.Errorf("running ssh: %w", err)
	}
	return nil
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// shellWord quotes w for a POSIX shell unless it is plainly safe.
func shellWord(w string) string {
	if w != "" && strings.IndexFunc(w, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '=' || r == ':' || r == ',' || r == '+' || r == '@' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}
