package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/telemetry"
)

func init() { commands = append(commands, newTelemetryCommand) }

func newTelemetryCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "telemetry",
		Short: "Manage anonymous usage metrics (off unless you enable them)",
		Long: `Pitlane can send anonymous usage metrics: how many workspaces are created,
started, stopped and deleted, how long creation takes, which editors open them,
and Pitlane's version, OS and architecture. It never sends names, paths, URLs,
branches, user or host names, or error messages. Telemetry is off until you
enable it; DO_NOT_TRACK=1 or PITLANE_TELEMETRY=off turn it off whatever else
says. "pitlane telemetry preview" prints exactly what is sent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTelemetryStatus(a) },
	}
	var endpoint string
	enable := &cobra.Command{
		Use:   "enable",
		Short: "Turn anonymous usage metrics on for the command line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := recorderOf(a)
			if err := r.Enable(endpoint); err != nil {
				return fmt.Errorf("cannot enable telemetry: %w", err)
			}
			st := r.Status()
			if st.Enabled {
				fmt.Fprintln(a.stdout, "Telemetry is on. Thank you! `pitlane telemetry preview` shows what is sent.")
			} else {
				fmt.Fprintf(a.stdout, "Your choice is saved, but telemetry stays off in this environment (%s).\n", st.Reason)
			}
			return nil
		},
	}
	enable.Flags().StringVar(&endpoint, "endpoint", "", "store this OTLP/HTTP metrics URL as the endpoint")
	disable := &cobra.Command{
		Use:   "disable",
		Short: "Turn anonymous usage metrics off for the command line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := recorderOf(a).Disable(); err != nil {
				return fmt.Errorf("cannot disable telemetry: %w", err)
			}
			fmt.Fprintln(a.stdout, "Telemetry is off.")
			return nil
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Say whether telemetry is on, why, and where it sends",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runTelemetryStatus(a) },
	}
	preview := &cobra.Command{
		Use:   "preview",
		Short: "Print exactly what would be sent for a sample session, as OTLP JSON",
		Long: `Runs a sample session through the same export pipeline a real session uses,
with this installation's real values, and prints each request exactly as it
would be sent, in OTLP's JSON encoding. Nothing leaves this machine.

The sample session: ` + telemetry.PreviewSession + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fresh, err := recorderOf(a).Preview(cmd.Context(), a.stdout)
			if err != nil {
				return err
			}
			if fresh {
				fmt.Fprintln(a.stderr, "(no install id exists yet: the preview shows a random one; a new one is made when telemetry is first used)")
			}
			return nil
		},
	}
	resetID := &cobra.Command{
		Use:   "reset-id",
		Short: "Replace the anonymous install id with a new random one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := recorderOf(a).ResetID()
			if err != nil {
				return fmt.Errorf("cannot reset the install id: %w", err)
			}
			fmt.Fprintf(a.stdout, "New install id: %s\n", id)
			return nil
		},
	}
	cmd.AddCommand(enable, disable, status, preview, resetID)
	return cmd
}

func runTelemetryStatus(a *app) error {
	st := recorderOf(a).Status()
	state := "off"
	if st.Enabled {
		state = "on"
	}
	id := st.InstallID
	if id == "" {
		id = "(none yet)"
	}
	w := a.stdout
	fmt.Fprintf(w, "Telemetry:  %s\n", state)
	fmt.Fprintf(w, "Why:        %s\n", st.Reason)
	fmt.Fprintf(w, "Endpoint:   %s (from %s)\n", st.Endpoint, st.EndpointFrom)
	fmt.Fprintf(w, "Install id: %s\n", id)
	fmt.Fprintf(w, "Settings:   %s\n", st.SettingsFile)
	for _, k := range []string{telemetry.EnvDoNotTrack, telemetry.EnvTelemetry, telemetry.EnvEndpoint} {
		if v, ok := os.LookupEnv(k); ok {
			fmt.Fprintf(w, "Env:        %s=%s\n", k, v)
		}
	}
	fmt.Fprintln(w, "IDEs follow their own setting: on only if the IDE's Pitlane telemetry setting and the IDE's global telemetry are both on.")
	fmt.Fprintln(w, "What is sent: docs/telemetry.md; `pitlane telemetry preview` prints it.")
	return nil
}
