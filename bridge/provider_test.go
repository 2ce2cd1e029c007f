package bridge_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/protocol"
)

// providerManager is the fake engine with several providers.
type providerManager struct {
	*fakeManager
	providers []protocol.Provider
}

func (p *providerManager) Providers(context.Context) ([]protocol.Provider, error) {
	return p.providers, nil
}

func TestProviderList(t *testing.T) {
	t.Run("one engine", func(t *testing.T) {
		c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(t.TempDir())}))
		initialize(t, c)
		var res protocol.ProviderListResult
		must(t, c.conn.Call(context.Background(), protocol.MethodProviderList, nil, &res))
		if len(res.Providers) != 1 || res.Providers[0].Kind != protocol.ProviderDocker || !res.Providers[0].Default {
			t.Errorf("providers = %+v, want the local Docker engine alone", res.Providers)
		}
	})
	t.Run("several", func(t *testing.T) {
		want := []protocol.Provider{
			{Name: "dev", Kind: protocol.ProviderKubernetes, Default: true, Description: "context dev"},
			{Name: "docker", Kind: protocol.ProviderDocker, Description: "the local engine"},
		}
		source, _ := writeSources(t)
		f := &providerManager{fakeManager: newFakeManager(t.TempDir()), providers: want}
		c := newClient(t, inProcessConn(t, bridge.Options{Manager: f}))
		initialize(t, c)
		var res protocol.ProviderListResult
		must(t, c.conn.Call(context.Background(), protocol.MethodProviderList, nil, &res))
		if !reflect.DeepEqual(res.Providers, want) {
			t.Errorf("providers = %+v, want %+v", res.Providers, want)
		}
		must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: "k", Provider: "dev"}, nil))
		must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: "d"}, nil))
		if len(f.created) != 2 || f.created[0].Provider != "dev" || f.created[1].Provider != "" {
			t.Errorf("creates reached the engine with providers %q and %q", f.created[0].Provider, f.created[1].Provider)
		}
	})
}
