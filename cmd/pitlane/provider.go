package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/kube"
	"github.com/pitlane/pitlane/internal/provider"
	"github.com/pitlane/pitlane/internal/sshconfig"
)

func init() { commands = append(commands, newProviderCommand) }

// providers is the store in Pitlane's config folder.
func providers() (provider.Store, error) {
	dir, err := sshconfig.DefaultConfigDir()
	if err != nil {
		return provider.Store{}, err
	}
	return provider.Store{Dir: dir}, nil
}

func newProviderCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provider",
		Short: "Manage the places where workspaces run (local Docker, Kubernetes clusters)",
		Long: `A provider is a named place where workspaces run. "docker", the Docker engine
that DOCKER_HOST names (or the local one), is always there and is the default.
Add a Kubernetes cluster with "pitlane provider add NAME kubernetes", make it
the default with "pitlane provider use NAME". Providers are saved in Pitlane's
config folder.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runProviderList(a, false) },
	}
	cmd.AddCommand(newProviderAddCommand(a), newProviderListCommand(a), newProviderUseCommand(a), newProviderRemoveCommand(a))
	return cmd
}

type providerAddOptions struct {
	p       provider.Provider
	noCheck bool
	asJSON  bool
}

func newProviderAddCommand(a *app) *cobra.Command {
	var o providerAddOptions
	cmd := &cobra.Command{
		Use:   "add NAME TYPE",
		Short: "Add a provider: a Kubernetes cluster (TYPE kubernetes) or a Docker engine (TYPE docker)",
		Long: `Adds a named provider.

  pitlane provider add team kubernetes --context prod --namespace dev-ws \
      --storage-class fast --image-registry registry.example.com/team
  pitlane provider add box docker --host ssh://me@box.example.com

A kubernetes provider runs each workspace as a pod with a volume claim for its
files, in the given context and namespace of your kubeconfig (default: its
current context and that context's namespace). Configs that build an image (a
Dockerfile, features) need --image-registry: Pitlane builds with the local
Docker engine and pushes there, and the cluster pulls from it.

The kubeconfig and context are checked now, and the cluster is asked whether
it answers (an unreachable cluster is saved anyway, with a warning);
--no-check saves without looking.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.p.Name, o.p.Type = args[0], provider.Type(strings.ToLower(args[1]))
			return runProviderAdd(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.p.Context, "context", "", "kubernetes: the kubeconfig context (default: its current context)")
	f.StringVar(&o.p.Namespace, "namespace", "", "kubernetes: the namespace of the workspaces (default: the context's)")
	f.StringVar(&o.p.StorageClass, "storage-class", "", "kubernetes: the storage class of the workspaces' volume claims (default: the cluster's)")
	f.StringVar(&o.p.ImageRegistry, "image-registry", "", "kubernetes: the registry (HOST[:PORT][/PATH]) that receives images configs build")
	f.StringVar(&o.p.Kubeconfig, "kubeconfig", "", "kubernetes: the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.p.Host, "host", "", "docker: the engine's address, e.g. ssh://user@host (default: DOCKER_HOST or the local engine)")
	f.BoolVar(&o.noCheck, "no-check", false, "save without checking the kubeconfig or reaching the cluster")
	f.BoolVar(&o.asJSON, "json", false, "print the saved provider as JSON")
	return cmd
}

func runProviderAdd(ctx context.Context, a *app, o providerAddOptions) error {
	s, err := providers()
	if err != nil {
		return err
	}
	if err := provider.Validate(o.p); err != nil {
		return err
	}
	if _, err := s.Get(o.p.Name); err == nil {
		return fmt.Errorf("%w: %s; remove it first with `pitlane provider remove %s`, or pick another name", provider.ErrExists, o.p.Name, o.p.Name)
	}
	var warning string
	if o.p.Type == provider.Kubernetes && !o.noCheck {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		c, err := kube.New(cctx, kubeOptions(o.p))
		cancel()
		switch {
		case errors.Is(err, kube.ErrNoKubeconfig):
			return fmt.Errorf("%w\n(nothing was saved; --no-check saves without looking)", err)
		case err != nil:
			warning = fmt.Sprintf("warning: saved, but the cluster does not answer now: %v", err)
		default:
			if o.p.Namespace == "" && !o.asJSON {
				fmt.Fprintf(a.stderr, "the cluster answers; workspaces go to namespace %s\n", c.Namespace())
			}
		}
	}
	if err := s.Add(o.p); err != nil {
		return err
	}
	if warning != "" {
		fmt.Fprintln(a.stderr, warning)
	}
	if o.asJSON {
		p, err := s.Get(o.p.Name)
		if err != nil {
			return err
		}
		return a.printJSON(p)
	}
	fmt.Fprintf(a.stdout, "Added provider %s (%s). Make it the default with `pitlane provider use %s`.\n", o.p.Name, o.p.Type, o.p.Name)
	return nil
}

// kubeOptions are the runtime options of a kubernetes provider.
func kubeOptions(p provider.Provider) kube.Options {
	return kube.Options{
		Kubeconfig: p.Kubeconfig, Context: p.Context, Namespace: p.Namespace,
		StorageClass: p.StorageClass, ImageRegistry: p.ImageRegistry,
	}
}

func newProviderListCommand(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the providers; the default is marked with *",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runProviderList(a, asJSON) },
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func runProviderList(a *app, asJSON bool) error {
	s, err := providers()
	if err != nil {
		return err
	}
	ps, err := s.List()
	if err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(ps)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tTYPE\tWHERE")
	for _, p := range ps {
		mark := " "
		if p.Default {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\n", mark, p.Name, p.Type, where(p))
	}
	return tw.Flush()
}

// where describes a provider's target in a few words.
func where(p provider.Provider) string {
	var parts []string
	switch p.Type {
	case provider.Docker:
		switch {
		case p.Host != "":
			parts = append(parts, p.Host)
		case p.BuiltIn:
			parts = append(parts, "DOCKER_HOST or the local engine")
		}
	case provider.Kubernetes:
		ctx := p.Context
		if ctx == "" {
			ctx = "current context"
		}
		parts = append(parts, "context "+ctx)
		if p.Namespace != "" {
			parts = append(parts, "namespace "+p.Namespace)
		}
		if p.StorageClass != "" {
			parts = append(parts, "storage class "+p.StorageClass)
		}
		if p.ImageRegistry != "" {
			parts = append(parts, "registry "+p.ImageRegistry)
		}
		if p.Kubeconfig != "" {
			parts = append(parts, "kubeconfig "+p.Kubeconfig)
		}
	}
	return strings.Join(parts, ", ")
}

func newProviderUseCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "use NAME",
		Short: "Make a provider the default",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := providers()
			if err != nil {
				return err
			}
			if err := s.Use(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s is the default provider now.\n", args[0])
			return nil
		},
	}
}

func newProviderRemoveCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Forget a provider (its workspaces stay where they run)",
		Long: `Forgets a provider. Workspaces it runs are not touched: delete them first
with "pitlane delete" if they should go, or add the provider again to reach
them. If it was the default, the local Docker engine is the default again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := providers()
			if err != nil {
				return err
			}
			if err := s.Remove(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Removed provider %s.\n", args[0])
			return nil
		},
	}
}
