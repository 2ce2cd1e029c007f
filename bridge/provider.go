package bridge

import (
	"context"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/protocol"
)

// ProviderLister is implemented by a Manager that runs workspaces on
// several providers; workspace/create's "provider" picks one of them. A
// Manager without it is the local Docker engine alone.
type ProviderLister interface {
	Providers(ctx context.Context) ([]protocol.Provider, error)
}

func init() { handlers[protocol.MethodProviderList] = (*Server).providerList }

func (s *Server) providerList(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	if err := decodeParams(req, &struct{}{}, false); err != nil {
		return nil, err
	}
	pl, ok := s.opts.Manager.(ProviderLister)
	if !ok {
		return protocol.ProviderListResult{Providers: []protocol.Provider{{Name: "docker", Kind: protocol.ProviderDocker, Default: true, Description: "the Docker engine on this machine"}}}, nil
	}
	ps, err := pl.Providers(ctx)
	if err != nil {
		return nil, err
	}
	if ps == nil {
		ps = []protocol.Provider{}
	}
	return protocol.ProviderListResult{Providers: ps}, nil
}
