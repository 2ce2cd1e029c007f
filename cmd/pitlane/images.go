package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newImagesCommand) }

func newImagesCommand(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "images",
		Short: "List Pitlane's cached workspace images",
		Long: `List the images in Pitlane's cache: those create and rebuild built, and those
prebuilt or pulled, each under its content key, with its size, when it was
built and last used, which setup phases are baked into it, and which
workspaces use it. 'pitlane images prune' removes the unused ones.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := a.manager(cmd.Context())
			if err != nil {
				return err
			}
			imgs, err := m.Images(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(imgs)
			}
			if len(imgs) == 0 {
				fmt.Fprintln(a.stdout, "No cached images. Creating from a Dockerfile or with features, or `pitlane prebuild SOURCE`, makes some.")
				return nil
			}
			printImages(a, imgs, true)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(newImagesPruneCommand(a))
	return cmd
}

func printImages(a *app, imgs []workspace.CachedImage, withUsers bool) {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	if withUsers {
		fmt.Fprintln(tw, "KEY\tSIZE\tBUILT\tLAST USED\tBAKED\tUSED BY")
	} else {
		fmt.Fprintln(tw, "KEY\tSIZE\tBUILT\tLAST USED\tBAKED")
	}
	for _, img := range imgs {
		baked := "-"
		if len(img.Baked) > 0 {
			baked = strings.Join(img.Baked, ",")
		}
		key := workspace.ShortKey(img.Key)
		if len(img.Tags) == 0 {
			key += " (replaced)"
		}
		line := fmt.Sprintf("%s\t%s\t%s ago\t%s ago\t%s", key, units.HumanSize(float64(img.Size)),
			age(time.Since(img.Created)), age(time.Since(img.LastUsed)), baked)
		if withUsers {
			users := "-"
			if len(img.UsedBy) > 0 {
				users = strings.Join(img.UsedBy, ",")
			}
			line += "\t" + users
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}

type pruneOptions struct {
	keep      int
	olderThan string
	dryRun    bool
	json      bool
}

func newImagesPruneCommand(a *app) *cobra.Command {
	var opts pruneOptions
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove cached images no workspace uses",
		Long: `Remove the cached images that no workspace uses (nor any other container on
the Docker engine). --keep N keeps the N most recently used of them;
--older-than D removes only those last used longer ago than D (90m, 12h,
7d). An image a workspace uses is never removed.`,
		Example: `  pitlane images prune
  pitlane images prune --keep 3 --older-than 7d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			older, err := parseAge(opts.olderThan)
			if err != nil {
				return err
			}
			if opts.keep < 0 {
				return fmt.Errorf("--keep must be 0 or more, not %d", opts.keep)
			}
			m, err := a.manager(cmd.Context())
			if err != nil {
				return err
			}
			removed, err := m.PruneImages(cmd.Context(), workspace.PruneOptions{Keep: opts.keep, OlderThan: older, DryRun: opts.dryRun})
			if err != nil {
				return err
			}
			if opts.json {
				return a.printJSON(removed)
			}
			var total int64
			for _, img := range removed {
				total += img.Size
			}
			verb := "Removed"
			if opts.dryRun {
				verb = "Would remove"
			}
			if len(removed) == 0 {
				fmt.Fprintln(a.stdout, "Nothing to remove.")
				return nil
			}
			printImages(a, removed, false)
			fmt.Fprintf(a.stdout, "%s %d images, %s.\n", verb, len(removed), units.HumanSize(float64(total)))
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.keep, "keep", 0, "keep the `N` most recently used unused images")
	f.StringVar(&opts.olderThan, "older-than", "", "remove only images last used longer ago than this `duration` (90m, 12h, 7d)")
	f.BoolVar(&opts.dryRun, "dry-run", false, "list what would be removed, remove nothing")
	f.BoolVar(&opts.json, "json", false, "print the removed images as JSON")
	return cmd
}

// parseAge reads a duration as Go writes them (90m, 12h) or in days (7d).
func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d >= 0 {
			return time.Duration(d) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--older-than %q is not a duration: write it like 90m, 12h or 7d", s)
	}
	return d, nil
}
