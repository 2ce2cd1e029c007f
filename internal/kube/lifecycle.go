package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
)

// stopGrace is how long a workspace container gets to exit when its pod is
// deleted, unless Stop says otherwise.
const stopGrace = 10

// Create records a new workspace: its claim, holding the spec, so that
// Start can make the pod. Nothing runs yet. A name in use gives an error
// matching ErrConflict.
func (c *Client) Create(ctx context.Context, spec ContainerSpec) (string, error) {
	if err := checkSpec(spec); err != nil {
		return "", err
	}
	pvc, err := c.claim(spec)
	if err != nil {
		return "", err
	}
	_, err = c.cs.CoreV1().PersistentVolumeClaims(c.namespace).Create(ctx, pvc, metav1.CreateOptions{})
	if err != nil {
		return "", c.apiErr(err, "create", "persistentvolumeclaims")
	}
	return spec.Name, nil
}

// Inspect returns one workspace by name.
func (c *Client) Inspect(ctx context.Context, name string) (*Container, error) {
	pvc, err := c.cs.CoreV1().PersistentVolumeClaims(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, c.apiErr(err, "get", "persistentvolumeclaims")
	}
	if pvc.Labels[labelManagedBy] != managedBy {
		return nil, fmt.Errorf("%w: the claim %s in namespace %s is not one of Pitlane's", ErrNotFound, name, c.namespace)
	}
	pod, err := c.cs.CoreV1().Pods(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		pod, err = nil, nil
	}
	if err != nil {
		return nil, c.apiErr(err, "get", "pods")
	}
	return toContainer(pvc, pod), nil
}

// List returns the workspaces carrying all of the given labels (key=value,
// or key alone for any value).
func (c *Client) List(ctx context.Context, filter ...string) ([]Container, error) {
	sel := labels.Set{labelManagedBy: managedBy}.AsSelector()
	var rest []string
	for _, f := range filter {
		k, v, hasValue := strings.Cut(f, "=")
		switch {
		case hasValue && selectable(k, v):
			r, _ := labels.NewRequirement(k, "=", []string{v})
			sel = sel.Add(*r)
		case !hasValue && selectable(k, ""):
			r, _ := labels.NewRequirement(k, "exists", nil)
			sel = sel.Add(*r)
		default:
			rest = append(rest, f) // checked below, on the annotation
		}
	}
	opts := metav1.ListOptions{LabelSelector: sel.String()}
	pvcs, err := c.cs.CoreV1().PersistentVolumeClaims(c.namespace).List(ctx, opts)
	if err != nil {
		return nil, c.apiErr(err, "list", "persistentvolumeclaims")
	}
	pods, err := c.cs.CoreV1().Pods(c.namespace).List(ctx, opts)
	if err != nil {
		return nil, c.apiErr(err, "list", "pods")
	}
	byName := map[string]*corev1.Pod{}
	for i := range pods.Items {
		byName[pods.Items[i].Name] = &pods.Items[i]
	}
	out := []Container{}
	for i := range pvcs.Items {
		ct := toContainer(&pvcs.Items[i], byName[pvcs.Items[i].Name])
		if matches(ct.Labels, rest) {
			out = append(out, *ct)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func matches(l map[string]string, filter []string) bool {
	for _, f := range filter {
		k, v, hasValue := strings.Cut(f, "=")
		got, ok := l[k]
		if !ok || (hasValue && got != v) {
			return false
		}
	}
	return true
}

// toContainer describes a workspace from its claim and pod (nil without).
func toContainer(pvc *corev1.PersistentVolumeClaim, pod *corev1.Pod) *Container {
	spec, _ := decodeSpec(pvc.Annotations)
	ct := &Container{
		ID: pvc.Name, Name: pvc.Name, Image: spec.Image, Labels: spec.Labels,
		Created: pvc.CreationTimestamp.UTC(), Env: spec.Env, Status: "stopped",
	}
	if ct.Labels == nil {
		ct.Labels = map[string]string{}
	}
	if pod == nil {
		return ct
	}
	ct.Status = "created"
	if pod.DeletionTimestamp != nil {
		ct.Status = "stopping"
	}
	for _, st := range pod.Status.ContainerStatuses {
		if st.Name != container {
			continue
		}
		ct.ImageID = st.ImageID
		switch {
		case st.State.Running != nil && pod.DeletionTimestamp == nil:
			ct.Running, ct.Status = true, "running"
		case st.State.Terminated != nil:
			ct.Status = "exited"
		}
	}
	return ct
}

// Start makes the workspace's pod from its recorded spec and waits until
// its container runs. Starting a running workspace does nothing. A pod
// that cannot start gives an error that says why: the image cannot be
// pulled (ErrImagePull, with the cluster's event), the claim stays pending
// or no node has room (ErrPending), the source cannot be cloned.
func (c *Client) Start(ctx context.Context, name string) error {
	pvc, err := c.cs.CoreV1().PersistentVolumeClaims(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return c.apiErr(err, "get", "persistentvolumeclaims")
	}
	spec, err := decodeSpec(pvc.Annotations)
	if err != nil {
		return err
	}
	pods := c.cs.CoreV1().Pods(c.namespace)
	pod, err := pods.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return c.apiErr(err, "get", "pods")
	case pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed:
		return c.waitRunning(ctx, name) // running, or on its way
	default:
		// An ended pod (or one going away) is replaced.
		if err := c.deletePod(ctx, name, 0); err != nil {
			return err
		}
	}
	p, err := c.pod(spec, decodeLabels(pvc.Annotations))
	if err != nil {
		return err
	}
	if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
		return c.apiErr(err, "create", "pods")
	}
	return c.waitRunning(ctx, name)
}

// Stop deletes the workspace's pod, giving its container timeout to exit,
// and keeps the claim with the workspace's files. Stopping a stopped
// workspace does nothing.
func (c *Client) Stop(ctx context.Context, name string, timeout time.Duration) error {
	if _, err := c.cs.CoreV1().PersistentVolumeClaims(c.namespace).Get(ctx, name, metav1.GetOptions{}); err != nil {
		return c.apiErr(err, "get", "persistentvolumeclaims")
	}
	return c.deletePod(ctx, name, timeout)
}

// Remove deletes the workspace's pod and claim (and so its files) and
// waits until both are gone. A missing workspace is not an error.
func (c *Client) Remove(ctx context.Context, name string) error {
	err := c.cs.CoreV1().Pods(c.namespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(1))})
	if err != nil && !apierrors.IsNotFound(err) {
		return c.apiErr(err, "delete", "pods")
	}
	err = c.cs.CoreV1().PersistentVolumeClaims(c.namespace).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return c.apiErr(err, "delete", "persistentvolumeclaims")
	}
	if err := c.waitPodGone(ctx, name); err != nil {
		return err
	}
	return c.waitGone(ctx, name, "persistentvolumeclaims", func(ctx context.Context) error {
		_, err := c.cs.CoreV1().PersistentVolumeClaims(c.namespace).Get(ctx, name, metav1.GetOptions{})
		return err
	})
}

// Rename is not possible on Kubernetes: a pod and a claim keep their
// names for life.
func (c *Client) Rename(ctx context.Context, id, name string) error {
	return fmt.Errorf("%w: a workspace on Kubernetes cannot be renamed (%s to %s)", ErrNotSupported, id, name)
}

// deletePod deletes a pod and waits until it is gone.
func (c *Client) deletePod(ctx context.Context, name string, grace time.Duration) error {
	secs := int64(grace / time.Second)
	err := c.cs.CoreV1().Pods(c.namespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &secs})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return c.apiErr(err, "delete", "pods")
	}
	return c.waitPodGone(ctx, name)
}

func (c *Client) waitPodGone(ctx context.Context, name string) error {
	return c.waitGone(ctx, name, "pods", func(ctx context.Context) error {
		_, err := c.cs.CoreV1().Pods(c.namespace).Get(ctx, name, metav1.GetOptions{})
		return err
	})
}

// waitGone polls get until it reports NotFound, for up to two minutes.
func (c *Client) waitGone(ctx context.Context, name, resource string, get func(context.Context) error) error {
	deadline := time.Now().Add(2 * time.Minute)
	delay := 50 * time.Millisecond
	for {
		err := get(ctx)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return c.apiErr(err, "get", resource)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s %s in namespace %s is still there two minutes after it was deleted; look at it with `kubectl describe %s %s -n %s`", resource, name, c.namespace, resource, name, c.namespace)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

// waitRunning follows the pod until its workspace container runs, or
// fails with the reason it cannot.
func (c *Client) waitRunning(ctx context.Context, name string) error {
	pods := c.cs.CoreV1().Pods(c.namespace)
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	deadline := time.Now().Add(c.opts.StartTimeout)
	var since time.Time // since when the pod has been unschedulable
	for {
		list, err := pods.List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			return c.apiErr(err, "list", "pods")
		}
		if len(list.Items) == 0 {
			return fmt.Errorf("the pod of workspace %s went away while it was starting", name)
		}
		w, err := pods.Watch(ctx, metav1.ListOptions{FieldSelector: sel, ResourceVersion: list.ResourceVersion})
		if err != nil {
			return c.apiErr(err, "watch", "pods")
		}
		pod := &list.Items[0]
		tick := time.NewTicker(time.Second)
		done, err := c.followPod(ctx, w, tick.C, pod, deadline, &since)
		tick.Stop()
		w.Stop()
		if done || err != nil {
			return err
		}
		// The watch ended (the server closes them now and then): again.
	}
}

// followPod checks the pod on every change and every tick; it returns
// done once the container runs, or the error that stops it.
func (c *Client) followPod(ctx context.Context, w watch.Interface, tick <-chan time.Time, pod *corev1.Pod, deadline time.Time, since *time.Time) (bool, error) {
	for {
		ok, err := c.podReady(ctx, pod, deadline, since)
		if ok || err != nil {
			return ok, err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-tick:
		case ev, open := <-w.ResultChan():
			if !open {
				return false, nil
			}
			switch ev.Type {
			case watch.Deleted:
				return false, fmt.Errorf("the pod of workspace %s was deleted while it was starting", pod.Name)
			case watch.Error:
				return false, nil
			}
			if p, isPod := ev.Object.(*corev1.Pod); isPod {
				pod = p
			}
		}
	}
}

// waitingFailures are container waiting reasons that do not go away by
// waiting.
var waitingFailures = map[string]bool{
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
	"InvalidImageName": true, "ErrImageNeverPull": true, "CrashLoopBackOff": true,
}

// podReady reports whether the pod's workspace container runs, or why it
// never will.
func (c *Client) podReady(ctx context.Context, pod *corev1.Pod, deadline time.Time, since *time.Time) (bool, error) {
	if pod.DeletionTimestamp != nil {
		return false, fmt.Errorf("the pod of workspace %s is being deleted", pod.Name)
	}
	for _, st := range pod.Status.InitContainerStatuses {
		if t := st.State.Terminated; t != nil && t.ExitCode != 0 {
			return false, fmt.Errorf("preparing workspace %s failed (exit status %d): %s", pod.Name, t.ExitCode, c.logTail(ctx, pod.Name, st.Name, t.Message))
		}
		if err := c.waitingErr(ctx, pod, st); err != nil {
			return false, err
		}
	}
	for _, st := range pod.Status.ContainerStatuses {
		if st.Name != container {
			continue
		}
		if st.State.Running != nil {
			return true, nil
		}
		if t := st.State.Terminated; t != nil {
			return false, fmt.Errorf("the workspace container of %s exited at once (exit status %d, %s): %s", pod.Name, t.ExitCode, t.Reason, c.logTail(ctx, pod.Name, container, t.Message))
		}
		if err := c.waitingErr(ctx, pod, st); err != nil {
			return false, err
		}
	}
	if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		return false, fmt.Errorf("the pod of workspace %s ended (%s): %s", pod.Name, pod.Status.Reason, pod.Status.Message)
	}
	// Not scheduled: a claim that cannot be bound, or no node with room.
	for _, cond := range pod.Status.Conditions {
		if cond.Type != corev1.PodScheduled || cond.Status != corev1.ConditionFalse {
			continue
		}
		if since.IsZero() {
			*since = time.Now()
		}
		pvc, err := c.cs.CoreV1().PersistentVolumeClaims(c.namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, c.apiErr(err, "get", "persistentvolumeclaims")
		}
		if pvc.Status.Phase == corev1.ClaimPending {
			// A warning from the provisioner (no such storage class, no
			// room) does not go away by waiting; anything else gets until
			// the deadline.
			if ev := c.lastEvent(ctx, "PersistentVolumeClaim", pod.Name, corev1.EventTypeWarning); ev != "" && time.Since(*since) > 2*time.Second {
				return false, c.pendingErr(pod.Name, pvc, ev)
			}
			if time.Now().After(deadline) {
				return false, c.pendingErr(pod.Name, pvc, c.lastEvent(ctx, "PersistentVolumeClaim", pod.Name, ""))
			}
			return false, nil
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("%w: no node of the cluster can run workspace %s after %s: %s; lower the config's hostRequirements or ask the cluster's administrator for room",
				ErrPending, pod.Name, c.opts.StartTimeout, cond.Message)
		}
	}
	return false, nil
}

func (c *Client) pendingErr(name string, pvc *corev1.PersistentVolumeClaim, event string) error {
	class := "the cluster's default storage class"
	if pvc.Spec.StorageClassName != nil {
		class = "storage class " + *pvc.Spec.StorageClassName
	}
	if event == "" {
		event = "the cluster gave no reason"
	}
	return fmt.Errorf("%w: the volume claim of workspace %s is still pending (%s): %s; pick a storage class that exists with `pitlane provider add ... --storage-class` (`kubectl get storageclass` lists them)",
		ErrPending, name, class, event)
}

// waitingErr is the error of a container that waits for a reason waiting
// will not cure: an image that cannot be pulled, a bad config.
func (c *Client) waitingErr(ctx context.Context, pod *corev1.Pod, st corev1.ContainerStatus) error {
	wt := st.State.Waiting
	if wt == nil {
		return nil
	}
	switch {
	case wt.Reason == "ErrImagePull" || wt.Reason == "ImagePullBackOff":
		// The kubelet's "Failed to pull image" says why; its later
		// "ErrImagePull" and "Back-off pulling image" do not.
		ev := c.lastEvent(ctx, "Pod", pod.Name, corev1.EventTypeWarning, func(e *corev1.Event) bool {
			return strings.Contains(e.Message, "to pull image")
		})
		if ev == "" {
			ev = wt.Reason + ": " + wt.Message
		}
		return fmt.Errorf("%w %s for workspace %s: %s; check the image name, and that the cluster can reach its registry (and has its pull secret)", ErrImagePull, st.Image, pod.Name, ev)
	case waitingFailures[wt.Reason]:
		return fmt.Errorf("the %s container of workspace %s cannot start: %s: %s", st.Name, pod.Name, wt.Reason, wt.Message)
	}
	return nil
}

// lastEvent is the newest event (of type typ, or any when "") about an
// object, as "Reason: message". Only events that keep says yes to count,
// when it is given.
func (c *Client) lastEvent(ctx context.Context, kind, name, typ string, keep ...func(*corev1.Event) bool) string {
	sel := fields.Set{"involvedObject.kind": kind, "involvedObject.name": name}
	if typ != "" {
		sel["type"] = typ
	}
	evs, err := c.cs.CoreV1().Events(c.namespace).List(ctx, metav1.ListOptions{FieldSelector: sel.AsSelector().String()})
	if err != nil || len(evs.Items) == 0 {
		return ""
	}
	when := func(e *corev1.Event) time.Time {
		switch {
		case !e.LastTimestamp.IsZero():
			return e.LastTimestamp.Time
		case !e.EventTime.IsZero():
			return e.EventTime.Time
		}
		return e.CreationTimestamp.Time
	}
	var last *corev1.Event
	for i := range evs.Items {
		e := &evs.Items[i]
		if len(keep) > 0 && !keep[0](e) {
			continue
		}
		if last == nil || when(e).After(when(last)) {
			last = e
		}
	}
	if last == nil {
		return ""
	}
	return last.Reason + ": " + last.Message
}

// logTail is the end of a container that ended, or fallback. The last
// lines may reach the log a moment after the container is seen to end, so
// it reads until two reads agree (for up to two seconds).
func (c *Client) logTail(ctx context.Context, pod, ctr, fallback string) string {
	lines := int64(20)
	read := func() string {
		b, err := c.cs.CoreV1().Pods(c.namespace).GetLogs(pod, &corev1.PodLogOptions{Container: ctr, TailLines: &lines}).Do(ctx).Raw()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	s := read()
	for i := 0; i < 10; i++ {
		select {
		case <-ctx.Done():
			i = 10
		case <-time.After(200 * time.Millisecond):
		}
		again := read()
		if again == s {
			break
		}
		s = again
	}
	if s != "" {
		return s
	}
	if fallback == "" {
		return "no output"
	}
	return fallback
}

func ptr[T any](v T) *T { return &v }
