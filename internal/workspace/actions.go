package workspace

// Action is something a user can do with a workspace, named like the
// bridge methods without their "workspace/" prefix.
type Action string

// Actions, in the order menus show them.
const (
	ActionOpen    Action = "open"
	ActionStart   Action = "start"
	ActionStop    Action = "stop"
	ActionRebuild Action = "rebuild"
	ActionDelete  Action = "delete"
	ActionLogs    Action = "logs"
	ActionPorts   Action = "ports"
	ActionCancel  Action = "cancel"
)

// ActionOptions is what, besides its state, decides a workspace's actions.
type ActionOptions struct {
	// Cancellable is true when the caller runs an operation on the
	// workspace (a create, start or rebuild) that it can cancel.
	Cancellable bool
}

// Actions returns what a workspace in state s allows, in menu order:
//
//   - running: open, stop, rebuild, delete, logs, ports
//   - stopped: open (which starts it), start, rebuild, delete, logs
//   - creating, deleting (work under way): logs, and cancel when the
//     caller can cancel that work; never delete while creating
//   - error, interrupted: start (which finishes an interrupted setup),
//     rebuild, delete (which finishes an interrupted delete), logs
//
// A state this function does not know gets the actions of error, which
// let the user repair or remove the workspace.
func Actions(s State, opts ActionOptions) []Action {
	switch s {
	case StateRunning:
		return []Action{ActionOpen, ActionStop, ActionRebuild, ActionDelete, ActionLogs, ActionPorts}
	case StateStopped:
		return []Action{ActionOpen, ActionStart, ActionRebuild, ActionDelete, ActionLogs}
	case StateCreating, StateDeleting:
		if opts.Cancellable {
			return []Action{ActionLogs, ActionCancel}
		}
		return []Action{ActionLogs}
	}
	return []Action{ActionStart, ActionRebuild, ActionDelete, ActionLogs}
}
