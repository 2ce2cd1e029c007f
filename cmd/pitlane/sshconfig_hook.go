package main

import (
	"fmt"

	"github.com/pitlane/pitlane/internal/sshconfig"
	"github.com/pitlane/pitlane/internal/workspace"
)

// After a workspace is created, make sure ssh and IDEs can reach it as
// NAME.pitlane. Ensure is a no-op once the Include line is in place.
func init() {
	setups = append(setups, func(a *app) {
		a.observers = append(a.observers, func(ev workspace.Event) {
			if ev.Kind != workspace.EventCreated {
				return
			}
			res, err := sshconfig.Ensure(sshConfigOptions())
			if err != nil {
				fmt.Fprintf(a.stderr, "pitlane: warning: could not set up SSH access (%v); run `pitlane ssh-config` to retry\n", err)
				return
			}
			if res.Added {
				fmt.Fprintf(a.stderr, "pitlane: added one Include line to %s so ssh and IDEs reach workspaces as NAME.pitlane (undo: pitlane ssh-config --uninstall)\n", res.UserConfig)
			}
		})
	})
}
