package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/pitlane/pitlane/internal/docker"
	"github.com/pitlane/pitlane/internal/kube"
	"github.com/pitlane/pitlane/internal/provider"
	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/protocol"
)

// engines are the Managers of every saved provider, read once per process
// and connected on first use.
func (a *app) engines() (*workspace.Providers, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.provs != nil {
		return a.provs, nil
	}
	s, err := providers()
	if err != nil {
		return nil, err
	}
	ps, err := s.List()
	if err != nil {
		return nil, err
	}
	def := provider.Local
	targets := make([]workspace.Target, 0, len(ps))
	for _, p := range ps {
		if p.Default {
			def = p.Name
		}
		targets = append(targets, a.target(p))
	}
	a.provs = workspace.NewProviders(workspace.Options{Observer: a.observe, Forwarder: &credentialForwarder{a: a}}, def, targets...)
	return a.provs, nil
}

// target is how the engine reaches a saved provider.
func (a *app) target(p provider.Provider) workspace.Target {
	switch p.Type {
	case provider.Kubernetes:
		return workspace.Target{Name: p.Name, Open: func(ctx context.Context) (workspace.Runtime, bool, error) {
			c, err := kube.New(ctx, kubeOptions(p))
			if err != nil {
				return nil, false, err
			}
			// Images are read, built and pushed with the local engine;
			// without one, only configs whose image needs nothing of it
			// work, and the others say so.
			var images kube.Images
			if d, err := docker.New(ctx); err == nil {
				a.addCloser(func() { d.Close() })
				images = d
			}
			return kube.NewRuntime(c, images), true, nil
		}}
	default:
		return workspace.Target{Name: p.Name, Open: func(ctx context.Context) (workspace.Runtime, bool, error) {
			var cli *docker.Client
			var err error
			if p.Host != "" {
				cli, err = docker.NewHost(ctx, p.Host)
			} else {
				cli, err = docker.New(ctx)
			}
			if err != nil {
				return nil, false, err
			}
			a.addCloser(func() { cli.Close() })
			return cli, cli.Remote(), nil
		}}
	}
}

func (a *app) addCloser(f func()) {
	a.cmu.Lock()
	defer a.cmu.Unlock()
	a.closers = append(a.closers, f)
}

// managerOn is the Manager of provider name ("": the default provider).
func (a *app) managerOn(ctx context.Context, name string) (*workspace.Manager, error) {
	ps, err := a.engines()
	if err != nil {
		return nil, err
	}
	m, err := ps.Manager(ctx, name)
	if pe := (*workspace.ProviderError)(nil); errors.As(err, &pe) && pe.Provider == provider.Local {
		// The local engine's errors read as they always have.
		return nil, pe.Err
	}
	return m, err
}

// managerFor is the Manager of the provider that runs workspace name. A
// workspace no provider has gets the local engine's Manager, which can
// still clean up what a half-made one left in the data folder.
func (a *app) managerFor(ctx context.Context, name string) (*workspace.Manager, error) {
	m, _, err := a.findWorkspace(ctx, name)
	if errors.Is(err, workspace.ErrNotFound) {
		return a.managerOn(ctx, provider.Local)
	}
	return m, err
}

// findWorkspace asks the providers for workspace name.
func (a *app) findWorkspace(ctx context.Context, name string) (*workspace.Manager, *workspace.Workspace, error) {
	ps, err := a.engines()
	if err != nil {
		return nil, nil, err
	}
	m, ws, err := ps.Find(ctx, name)
	if pe := (*workspace.ProviderError)(nil); errors.As(err, &pe) && pe.Provider == provider.Local && len(ps.Names()) == 1 {
		return nil, nil, pe.Err
	}
	return m, ws, err
}

// listAll lists the workspaces of every provider; a provider that cannot
// be asked is reported on stderr, not fatal, unless it is the only one.
func (a *app) listAll(ctx context.Context) ([]*workspace.Workspace, error) {
	ps, err := a.engines()
	if err != nil {
		return nil, err
	}
	wss, errs := ps.List(ctx)
	if len(errs) > 0 && len(ps.Names()) == 1 {
		if pe := (*workspace.ProviderError)(nil); errors.As(errs[0], &pe) {
			return nil, pe.Err
		}
		return nil, errs[0]
	}
	for _, err := range errs {
		fmt.Fprintf(a.stderr, "warning: %v\n", err)
	}
	return wss, nil
}

// createOn creates a workspace on provider name ("": the default).
func (a *app) createOn(ctx context.Context, name string, opts workspace.CreateOptions) (*workspace.Workspace, error) {
	ps, err := a.engines()
	if err != nil {
		return nil, err
	}
	if _, err := a.managerOn(ctx, name); err != nil {
		return nil, err
	}
	return ps.Create(ctx, name, opts)
}

// mOn is the bridge's Manager of provider name ("": the default); a
// local engine that does not answer is ErrEngineDown.
func (l *lazyManager) mOn(ctx context.Context, name string) (*workspace.Manager, error) {
	m, err := l.a.managerOn(ctx, name)
	if err != nil {
		return nil, engineDown{err}
	}
	return m, nil
}

// mFor is the bridge's Manager of the provider that runs workspace name.
func (l *lazyManager) mFor(ctx context.Context, name string) (*workspace.Manager, error) {
	m, err := l.a.managerFor(ctx, name)
	if err != nil && !errors.Is(err, workspace.ErrNotFound) {
		return nil, engineDown{err}
	}
	return m, err
}

// listAll lists every provider's workspaces; providers that do not
// answer are left out (and logged), unless none answers.
func (l *lazyManager) listAll(ctx context.Context) ([]*workspace.Workspace, error) {
	ps, err := l.a.engines()
	if err != nil {
		return nil, err
	}
	wss, errs := ps.List(ctx)
	if len(errs) == len(ps.Names()) {
		if pe := (*workspace.ProviderError)(nil); errors.As(errs[0], &pe) && pe.Provider == provider.Local {
			return nil, engineDown{pe.Err}
		}
		return nil, engineDown{errs[0]}
	}
	for _, err := range errs {
		fmt.Fprintf(l.a.stderr, "pitlane bridge: warning: %v\n", err)
	}
	return wss, nil
}

// Providers lists the saved providers for provider/list.
func (l *lazyManager) Providers(context.Context) ([]protocol.Provider, error) {
	s, err := providers()
	if err != nil {
		return nil, err
	}
	ps, err := s.List()
	if err != nil {
		return nil, err
	}
	out := make([]protocol.Provider, 0, len(ps))
	for _, p := range ps {
		wp := protocol.Provider{Name: p.Name, Kind: protocol.ProviderDocker, Default: p.Default, Description: where(p)}
		if p.Type == provider.Kubernetes {
			wp.Kind = protocol.ProviderKubernetes
		}
		if p.Default {
			out = append([]protocol.Provider{wp}, out...)
		} else {
			out = append(out, wp)
		}
	}
	return out, nil
}

// watchAll follows every provider's workspaces that can be reached.
func (l *lazyManager) watchAll(ctx context.Context) (<-chan workspace.Event, error) {
	ps, err := l.a.engines()
	if err != nil {
		return nil, err
	}
	ch, err := ps.Watch(ctx)
	if err != nil {
		if pe := (*workspace.ProviderError)(nil); errors.As(err, &pe) && pe.Provider == provider.Local {
			return nil, engineDown{pe.Err}
		}
		return nil, engineDown{err}
	}
	return ch, nil
}
