package kube

import (
	"context"
	"errors"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
)

// Events follows the workspaces carrying all the given labels (key=value
// or key) until ctx ends, in Docker's words: "create" when a claim is
// made, "start" when a pod's workspace container runs, "die" when it stops
// running or the pod goes, "destroy" when the claim goes. The error
// channel receives at most one error, when the watch fails; the caller
// may then follow again.
func (c *Client) Events(ctx context.Context, filter ...string) (<-chan Event, <-chan error) {
	out := make(chan Event)
	errc := make(chan error, 1)
	sel := labels.Set{labelManagedBy: managedBy}.AsSelector()
	var rest []string
	for _, f := range filter {
		k, v, hasValue := strings.Cut(f, "=")
		if hasValue && selectable(k, v) {
			r, _ := labels.NewRequirement(k, "=", []string{v})
			sel = sel.Add(*r)
		} else {
			rest = append(rest, f)
		}
	}
	opts := metav1.ListOptions{LabelSelector: sel.String()}
	fail := func(err error) (<-chan Event, <-chan error) {
		errc <- err
		close(out)
		return out, errc
	}
	// Listing first gives what exists now, and the point from which the
	// watches report only changes.
	claimList, err := c.cs.CoreV1().PersistentVolumeClaims(c.namespace).List(ctx, opts)
	if err != nil {
		return fail(c.apiErr(err, "list", "persistentvolumeclaims"))
	}
	podList, err := c.cs.CoreV1().Pods(c.namespace).List(ctx, opts)
	if err != nil {
		return fail(c.apiErr(err, "list", "pods"))
	}
	ann := map[string]map[string]string{} // the pods' labels come from their claims
	for _, pvc := range claimList.Items {
		ann[pvc.Name] = pvc.Annotations
	}
	running := map[string]bool{}
	for i := range podList.Items {
		running[podList.Items[i].Name] = toContainer(&corev1.PersistentVolumeClaim{}, &podList.Items[i]).Running
	}
	copts := opts
	copts.ResourceVersion = claimList.ResourceVersion
	claims, err := c.cs.CoreV1().PersistentVolumeClaims(c.namespace).Watch(ctx, copts)
	if err != nil {
		return fail(c.apiErr(err, "watch", "persistentvolumeclaims"))
	}
	popts := opts
	popts.ResourceVersion = podList.ResourceVersion
	pods, err := c.cs.CoreV1().Pods(c.namespace).Watch(ctx, popts)
	if err != nil {
		claims.Stop()
		return fail(c.apiErr(err, "watch", "pods"))
	}
	go func() {
		defer close(out)
		defer claims.Stop()
		defer pods.Stop()
		// Changes are read as they come and queued for the caller, so a
		// slow reader neither holds up one watch against the other (which
		// would shuffle their order) nor loses anything.
		var queue []Event
		push := func(action, name string, a map[string]string) {
			if l := decodeLabels(a); matches(l, rest) {
				queue = append(queue, Event{Action: action, ID: name, Labels: l})
			}
		}
		for {
			var next chan<- Event
			var head Event
			if len(queue) > 0 {
				next, head = out, queue[0]
			}
			select {
			case <-ctx.Done():
				return
			case next <- head:
				queue = queue[1:]
			case ev, ok := <-claims.ResultChan():
				if !ok || ev.Type == watch.Error {
					errc <- c.watchErr(ctx)
					return
				}
				pvc, isClaim := ev.Object.(*corev1.PersistentVolumeClaim)
				if !isClaim {
					continue
				}
				// Annotations are kept after a claim goes: its pod's last
				// changes may still be on their way.
				ann[pvc.Name] = pvc.Annotations
				switch ev.Type {
				case watch.Added:
					push("create", pvc.Name, pvc.Annotations)
				case watch.Deleted:
					push("destroy", pvc.Name, pvc.Annotations)
				}
			case ev, ok := <-pods.ResultChan():
				if !ok || ev.Type == watch.Error {
					errc <- c.watchErr(ctx)
					return
				}
				pod, isPod := ev.Object.(*corev1.Pod)
				if !isPod {
					continue
				}
				now := ev.Type != watch.Deleted && toContainer(&corev1.PersistentVolumeClaim{}, pod).Running
				was := running[pod.Name]
				running[pod.Name] = now
				if ev.Type == watch.Deleted {
					delete(running, pod.Name)
				}
				a := ann[pod.Name]
				if a == nil {
					a = c.claimAnnotations(ctx, pod.Name)
					ann[pod.Name] = a
				}
				switch {
				case now && !was:
					push("start", pod.Name, a)
				case !now && was:
					push("die", pod.Name, a)
				}
			}
		}
	}()
	return out, errc
}

func (c *Client) claimAnnotations(ctx context.Context, name string) map[string]string {
	pvc, err := c.cs.CoreV1().PersistentVolumeClaims(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return pvc.Annotations
}

func (c *Client) watchErr(ctx context.Context) error {
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("the cluster ended the watch of workspaces")
}
