package docker

import (
	"context"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// Events follows container events of containers carrying all the given
// labels until ctx ends. The error channel receives at most one error.
func (c *Client) Events(ctx context.Context, labels ...string) (<-chan Event, <-chan error) {
	f := filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)))
	for _, l := range labels {
		f.Add("label", l)
	}
	msgs, errs := c.api.Events(ctx, events.ListOptions{Filters: f})
	out := make(chan Event)
	outErr := make(chan error, 1)
	go func() {
		defer close(out)
		for {
			select {
			case m := <-msgs:
				ev := Event{Action: string(m.Action), ID: m.Actor.ID, Labels: m.Actor.Attributes}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case err := <-errs:
				if ctx.Err() == nil {
					outErr <- wrap(err)
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, outErr
}
