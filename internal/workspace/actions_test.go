package workspace

import (
	"slices"
	"testing"
)

func TestActions(t *testing.T) {
	tests := []struct {
		state       State
		cancellable bool
		want        []Action
	}{
		{StateRunning, false, []Action{ActionOpen, ActionStop, ActionRebuild, ActionDelete, ActionLogs, ActionPorts}},
		{StateRunning, true, []Action{ActionOpen, ActionStop, ActionRebuild, ActionDelete, ActionLogs, ActionPorts}},
		{StateStopped, false, []Action{ActionOpen, ActionStart, ActionRebuild, ActionDelete, ActionLogs}},
		{StateCreating, false, []Action{ActionLogs}},
		{StateCreating, true, []Action{ActionLogs, ActionCancel}},
		{StateDeleting, false, []Action{ActionLogs}},
		{StateError, false, []Action{ActionStart, ActionRebuild, ActionDelete, ActionLogs}},
		{StateInterrupted, false, []Action{ActionStart, ActionRebuild, ActionDelete, ActionLogs}},
		{State("unknown"), false, []Action{ActionStart, ActionRebuild, ActionDelete, ActionLogs}},
	}
	for _, tc := range tests {
		name := string(tc.state)
		if tc.cancellable {
			name += "/cancellable"
		}
		t.Run(name, func(t *testing.T) {
			got := Actions(tc.state, ActionOptions{Cancellable: tc.cancellable})
			if !slices.Equal(got, tc.want) {
				t.Errorf("Actions(%s) = %v, want %v", tc.state, got, tc.want)
			}
		})
	}
}

// TestActionsOrder checks every state's actions against the one menu
// order, so clients can rely on it.
func TestActionsOrder(t *testing.T) {
	order := []Action{ActionOpen, ActionStart, ActionStop, ActionRebuild, ActionDelete, ActionLogs, ActionPorts, ActionCancel}
	for _, s := range []State{StateCreating, StateRunning, StateStopped, StateError, StateDeleting, StateInterrupted} {
		for _, c := range []bool{false, true} {
			got := Actions(s, ActionOptions{Cancellable: c})
			last := -1
			for _, a := range got {
				i := slices.Index(order, a)
				if i <= last {
					t.Errorf("Actions(%s, cancellable=%v) = %v: %s out of order or unknown", s, c, got, a)
				}
				last = i
			}
			if s == StateCreating && slices.Contains(got, ActionDelete) {
				t.Errorf("delete offered while creating: %v", got)
			}
		}
	}
}
