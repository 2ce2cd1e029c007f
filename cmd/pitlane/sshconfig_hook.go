package main

import (
	"context"
	"fmt"

	"github.com/pitlane/pitlane/internal/sshconfig"
	"github.com/pitlane/pitlane/internal/workspace"
)

// After a workspace is created or deleted, Pitlane's ssh_config gets one
// literal Host block per workspace, and the user's ~/.ssh/config its one
// Include line, so ssh and IDEs reach workspaces as NAME.pitlane.
func init() {
	setups = append(setups, func(a *app) {
		a.observers = append(a.observers, func(ev workspace.Event) {
			if ev.Kind != workspace.EventCreated && ev.Kind != workspace.EventDeleted {
				return
			}
			opts := sshConfigOptions(a.sshHosts(context.Background()))
			if ev.Kind == workspace.EventDeleted {
				if _, _, err := sshconfig.WriteOwn(opts); err != nil {
					fmt.Fprintf(a.stderr, "pitlane: warning: could not update Pitlane's ssh_config (%v); run `pitlane ssh-config` to retry\n", err)
				}
				return
			}
			res, err := sshconfig.Ensure(opts)
			if err != nil {
				fmt.Fprintf(a.stderr, "pitlane: warning: could not set up SSH access (%v); run `pitlane ssh-config` to retry\n", err)
				return
			}
			reportEnsure(a, res)
		})
	})
}

// sshHosts lists the workspaces to write SSH blocks for; nil (keep the
// file's list) when the engine cannot say.
func (a *app) sshHosts(ctx context.Context) []string {
	ps, err := a.engines()
	if err != nil {
		return nil
	}
	wss, errs := ps.List(ctx)
	if len(errs) > 0 {
		return nil
	}
	names := []string{}
	for _, ws := range wss {
		names = append(names, ws.Name)
	}
	return names
}

// reportEnsure says what Ensure changed in the user's files.
func reportEnsure(a *app, res *sshconfig.Result) {
	if res.Replaced != "" {
		fmt.Fprintf(a.stderr, "pitlane: replaced the stale line \"Include %s\" (that file no longer exists) in %s with Pitlane's current one\n", res.Replaced, res.UserConfig)
	} else if res.Added {
		fmt.Fprintf(a.stderr, "pitlane: added one Include line to %s so ssh and IDEs reach workspaces as NAME.pitlane (undo: pitlane ssh-config --uninstall)\n", res.UserConfig)
	}
}
