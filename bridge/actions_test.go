package bridge_test

import (
	"context"
	"slices"
	"testing"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/protocol"
)

// TestActionsOfCancellableCreate checks that a workspace being created by
// this bridge offers cancel (and never delete), and that the actions
// change with the state.
func TestActionsOfCancellableCreate(t *testing.T) {
	// Unnamed, the create's workspace takes the name of its source.
	for _, name := range []string{"slowpoke", ""} {
		t.Run("name="+name, func(t *testing.T) { cancellableCreate(t, name) })
	}
}

func cancellableCreate(t *testing.T, name string) {
	_, slow := writeSources(t)
	fm := newFakeManager(t.TempDir())
	fm.createStarted = make(chan struct{})
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: fm}))
	initialize(t, c)

	id := jsonrpc2.ID{Num: 42}
	w, err := c.conn.DispatchCall(context.Background(), protocol.MethodWorkspaceCreate,
		protocol.CreateParams{Source: slow, Name: name}, jsonrpc2.PickID(id))
	must(t, err)
	<-fm.createStarted
	var list protocol.ListResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceList, nil, &list))
	if len(list.Workspaces) != 1 || list.Workspaces[0].State != protocol.StateCreating {
		t.Fatalf("list during create: %+v", list.Workspaces)
	}
	if got, want := list.Workspaces[0].Actions, []string{"logs", "cancel"}; !slices.Equal(got, want) {
		t.Errorf("actions while this bridge creates: %q, want %q", got, want)
	}
	must(t, c.conn.Notify(context.Background(), protocol.MethodCancelRequest, map[string]any{"id": 42}))
	if err := w.Wait(context.Background(), nil); err == nil {
		t.Fatal("the cancelled create succeeded")
	}
}

// TestActionsWithoutCancel checks that a workspace another process
// creates offers logs only: this bridge cannot cancel that work.
func TestActionsWithoutCancel(t *testing.T) {
	_, slow := writeSources(t)
	fm := newFakeManager(t.TempDir())
	fm.createStarted = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go fm.Create(ctx, workspaceCreateOptions(slow, "elsewhere"))
	<-fm.createStarted
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: fm}))
	initialize(t, c)
	var list protocol.ListResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceList, nil, &list))
	if len(list.Workspaces) != 1 {
		t.Fatalf("list: %+v", list.Workspaces)
	}
	if got, want := list.Workspaces[0].Actions, []string{"logs"}; !slices.Equal(got, want) {
		t.Errorf("actions of a create run elsewhere: %q, want %q", got, want)
	}
}

// TestActionsNeverNull checks that a v1 request still gets "actions" as
// a list, never null.
func TestActionsNeverNull(t *testing.T) {
	source, _ := writeSources(t)
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(t.TempDir())}))
	initialize(t, c)
	var res map[string]map[string]any
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: "demo"}, &res))
	if _, ok := res["workspace"]["actions"].([]any); !ok {
		t.Errorf("actions is %#v, want a list", res["workspace"]["actions"])
	}
}
