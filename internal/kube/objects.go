package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Names and keys Pitlane uses on its objects.
const (
	// container is the workspace container's name in the pod.
	container = "workspace"
	// prepareContainer is the init container that clones the source and
	// fills the home folder.
	prepareContainer = "prepare"
	// volumeName is the pod's name for the workspace's claim.
	volumeName = "workspace"
	// volumeRoot is where the init container mounts the whole claim.
	volumeRoot = "/.pitlane-volume"

	// annotationLabels holds all of the workspace's labels as JSON: label
	// values on Kubernetes are short and plain, Pitlane's are not (URLs,
	// the resolved config).
	annotationLabels = "dev.pitlane/labels"
	// annotationSpec holds the ContainerSpec as JSON, so Start can make
	// the pod again after Stop deleted it.
	annotationSpec = "dev.pitlane/spec"

	labelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "pitlane"
)

// Folders of the claim.
const (
	subWorkspace = "workspace"
	subHome      = "home"
	subVolumes   = "volumes"
)

// objectLabels are the labels that can be Kubernetes labels (and so be
// selected on), plus Pitlane's own.
func objectLabels(l map[string]string) map[string]string {
	out := map[string]string{labelManagedBy: managedBy}
	for k, v := range l {
		if selectable(k, v) {
			out[k] = v
		}
	}
	return out
}

// selectable reports whether key=value is a valid Kubernetes label.
func selectable(k, v string) bool {
	return len(validation.IsQualifiedName(k)) == 0 && len(validation.IsValidLabelValue(v)) == 0
}

// storedSpec is what annotationSpec holds: the spec without its labels
// (they have their own annotation) and with its mounts checked.
func encodeSpec(spec ContainerSpec) (map[string]string, error) {
	labels, err := json.Marshal(spec.Labels)
	if err != nil {
		return nil, err
	}
	spec.Labels = nil
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	return map[string]string{annotationLabels: string(labels), annotationSpec: string(b)}, nil
}

func decodeSpec(ann map[string]string) (ContainerSpec, error) {
	var spec ContainerSpec
	if err := json.Unmarshal([]byte(ann[annotationSpec]), &spec); err != nil {
		return spec, fmt.Errorf("the workspace's claim has no readable %s annotation (was it made by Pitlane?): %v", annotationSpec, err)
	}
	spec.Labels = decodeLabels(ann)
	return spec, nil
}

func decodeLabels(ann map[string]string) map[string]string {
	l := map[string]string{}
	_ = json.Unmarshal([]byte(ann[annotationLabels]), &l)
	return l
}

// checkSpec refuses what a pod cannot do, before anything is made.
func checkSpec(spec ContainerSpec) error {
	if len(validation.IsDNS1123Label(spec.Name)) > 0 {
		return fmt.Errorf("%q cannot name a pod: use lowercase letters, digits and '-', at most 63 characters", spec.Name)
	}
	if spec.Image == "" {
		return fmt.Errorf("the workspace has no image")
	}
	if len(spec.Devices) > 0 {
		return fmt.Errorf("%w: devices (%s) cannot be given to a pod; remove them from runArgs", ErrNotSupported, strings.Join(spec.Devices, ", "))
	}
	if spec.NetworkMode != "" && spec.NetworkMode != "host" && spec.NetworkMode != "bridge" && spec.NetworkMode != "default" {
		return fmt.Errorf("%w: network %q; a pod has its own network or the node's (--network=host)", ErrNotSupported, spec.NetworkMode)
	}
	if _, _, err := runAs(spec.User); err != nil {
		return err
	}
	if _, err := volumeMounts(spec); err != nil {
		return err
	}
	if _, err := securityOpts(spec.SecurityOpt); err != nil {
		return err
	}
	for _, h := range spec.ExtraHosts {
		if _, _, ok := strings.Cut(h, ":"); !ok {
			return fmt.Errorf("extra host %q: want HOST:IP", h)
		}
	}
	if spec.Source != nil && spec.Folder == "" {
		return fmt.Errorf("a source to clone needs a workspace folder")
	}
	return nil
}

// runAs parses a container user for a securityContext: "", "root", "0",
// "UID" or "UID:GID".
func runAs(user string) (uid, gid *int64, err error) {
	if user == "" {
		return nil, nil, nil
	}
	u, g, hasGroup := strings.Cut(user, ":")
	if u == "root" {
		u = "0"
	}
	if g == "root" {
		g = "0"
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: containerUser %q: a pod runs as a numeric user id (such as 1000 or 1000:1000); use that, or leave containerUser out and set remoteUser", ErrNotSupported, user)
	}
	uid = &n
	if hasGroup {
		m, err := strconv.ParseInt(g, 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: containerUser %q: the group must be numeric too", ErrNotSupported, user)
		}
		gid = &m
	}
	return uid, gid, nil
}

// volumeMounts maps the spec's workspace folder, home and mounts onto
// folders of the claim.
func volumeMounts(spec ContainerSpec) ([]corev1.VolumeMount, error) {
	var out []corev1.VolumeMount
	if spec.Folder != "" {
		out = append(out, corev1.VolumeMount{Name: volumeName, MountPath: spec.Folder, SubPath: subWorkspace})
	}
	if spec.Home != "" {
		out = append(out, corev1.VolumeMount{Name: volumeName, MountPath: spec.Home, SubPath: subHome})
	}
	for _, m := range spec.Mounts {
		if !path.IsAbs(m.Target) {
			return nil, fmt.Errorf("mount target %q is not an absolute path", m.Target)
		}
		switch m.Type {
		case "bind":
			if m.Target == spec.Folder {
				continue // the workspace folder: its files come from Source
			}
			return nil, fmt.Errorf("%w: the bind mount of %s at %s: a folder of this machine is not on the cluster; use a volume mount (type=volume) instead", ErrNotSupported, m.Source, m.Target)
		case "volume", "":
			name := m.Source
			if name == "" {
				sum := sha256.Sum256([]byte(m.Target))
				name = "anonymous-" + hex.EncodeToString(sum[:6])
			}
			if strings.Contains(name, "/") || name == "." || name == ".." {
				return nil, fmt.Errorf("volume name %q: use a plain name", name)
			}
			out = append(out, corev1.VolumeMount{Name: volumeName, MountPath: m.Target, SubPath: subVolumes + "/" + name, ReadOnly: m.ReadOnly})
		default:
			return nil, fmt.Errorf("%w: mount type %q", ErrNotSupported, m.Type)
		}
	}
	return out, nil
}

// securityOpts maps Docker --security-opt values a pod can express.
func securityOpts(opts []string) (*corev1.SecurityContext, error) {
	sc := &corev1.SecurityContext{}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		if !strings.Contains(o, "=") {
			k, v, _ = strings.Cut(o, ":")
		}
		switch {
		case k == "seccomp" && v == "unconfined":
			sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		case k == "apparmor" && v == "unconfined":
			sc.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
		case k == "label" && v == "disable":
			sc.SELinuxOptions = &corev1.SELinuxOptions{Type: "spc_t"}
		case k == "no-new-privileges":
			f := v == "" || v == "true"
			sc.AllowPrivilegeEscalation = &[]bool{!f}[0]
		default:
			return nil, fmt.Errorf("%w: security option %q (a pod can take seccomp=unconfined, apparmor=unconfined, label=disable, no-new-privileges)", ErrNotSupported, o)
		}
	}
	return sc, nil
}

// claim is the workspace's PersistentVolumeClaim: its record and its disk.
func (c *Client) claim(spec ContainerSpec) (*corev1.PersistentVolumeClaim, error) {
	ann, err := encodeSpec(spec)
	if err != nil {
		return nil, err
	}
	size := c.opts.VolumeSize
	if spec.Resources.Storage > 0 {
		size = *resource.NewQuantity(spec.Resources.Storage, resource.BinarySI)
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: spec.Name, Namespace: c.namespace, Labels: objectLabels(spec.Labels), Annotations: ann},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
		},
	}
	if c.opts.StorageClass != "" {
		sc := c.opts.StorageClass
		pvc.Spec.StorageClassName = &sc
	}
	return pvc, nil
}

// prepareScript runs in the init container with the claim at volumeRoot
// (there is one only when there is something to prepare; the kubelet makes
// the claim's folders that are mounted):
// it clones the source once (into a side folder first, so a failed clone
// is tried again on the next start), fills the home folder once from the
// image, and hands both to the owner.
const prepareScript = `set -eu
v=` + volumeRoot + `
mkdir -p "$v/` + subVolumes + `"
if [ -n "${PITLANE_GIT_URL:-}" ] && [ ! -e "$v/.pitlane-cloned" ]; then
  if ! command -v git >/dev/null 2>&1; then
    echo "pitlane: the image has no git, so it cannot clone $PITLANE_GIT_URL into the workspace; use an image that has git" >&2
    exit 1
  fi
  rm -rf "$v/.clone"
  echo "pitlane: cloning $PITLANE_GIT_URL"
  if [ -n "${PITLANE_GIT_REF:-}" ]; then
    git clone --branch "$PITLANE_GIT_REF" -- "$PITLANE_GIT_URL" "$v/.clone"
  else
    git clone -- "$PITLANE_GIT_URL" "$v/.clone"
  fi
  rm -rf "$v/` + subWorkspace + `"
  mv "$v/.clone" "$v/` + subWorkspace + `"
  touch "$v/.pitlane-cloned"
fi
mkdir -p "$v/` + subWorkspace + `"
if [ -n "${PITLANE_HOME:-}" ] && [ ! -e "$v/.pitlane-home" ]; then
  mkdir -p "$v/` + subHome + `"
  if [ -d "$PITLANE_HOME" ]; then cp -a "$PITLANE_HOME/." "$v/` + subHome + `/"; fi
  touch "$v/.pitlane-home"
fi
if [ -n "${PITLANE_OWNER:-}" ] && [ "$(id -u)" = 0 ] && [ ! -e "$v/.pitlane-owned" ]; then
  ids="$(id -u "$PITLANE_OWNER"):$(id -g "$PITLANE_OWNER")"
  chown -R "$ids" "$v/` + subWorkspace + `"
  if [ -d "$v/` + subHome + `" ]; then chown -R "$ids" "$v/` + subHome + `"; fi
  touch "$v/.pitlane-owned"
fi
`

// pod is the workspace's pod, made from its spec on every start.
func (c *Client) pod(spec ContainerSpec, labels map[string]string) (*corev1.Pod, error) {
	mounts, err := volumeMounts(spec)
	if err != nil {
		return nil, err
	}
	sc, err := securityOpts(spec.SecurityOpt)
	if err != nil {
		return nil, err
	}
	uid, gid, err := runAs(spec.User)
	if err != nil {
		return nil, err
	}
	sc.RunAsUser, sc.RunAsGroup = uid, gid
	if spec.Privileged {
		t := true
		sc.Privileged = &t
	}
	if len(spec.CapAdd) > 0 {
		sc.Capabilities = &corev1.Capabilities{}
		for _, cp := range spec.CapAdd {
			sc.Capabilities.Add = append(sc.Capabilities.Add, corev1.Capability(strings.TrimPrefix(strings.ToUpper(cp), "CAP_")))
		}
	}
	var env []corev1.EnvVar
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, corev1.EnvVar{Name: k, Value: v})
	}
	main := corev1.Container{
		Name:            container,
		Image:           spec.Image,
		Command:         spec.Entrypoint,
		Args:            spec.Cmd,
		Env:             env,
		WorkingDir:      spec.WorkingDir,
		VolumeMounts:    mounts,
		SecurityContext: sc,
		Resources:       requests(spec.Resources),
	}
	grace := int64(stopGrace)
	no := false
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: spec.Name, Namespace: c.namespace, Labels: objectLabels(labels)},
		Spec: corev1.PodSpec{
			Containers:                    []corev1.Container{main},
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: &grace,
			EnableServiceLinks:            &no,
			AutomountServiceAccountToken:  &no,
			HostNetwork:                   spec.NetworkMode == "host",
			Volumes: []corev1.Volume{{Name: volumeName, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: spec.Name},
			}}},
		},
	}
	if spec.Init {
		t := true
		p.Spec.ShareProcessNamespace = &t
	}
	for _, h := range spec.ExtraHosts {
		host, ip, _ := strings.Cut(h, ":")
		p.Spec.HostAliases = append(p.Spec.HostAliases, corev1.HostAlias{IP: ip, Hostnames: []string{host}})
	}
	if spec.ShmSize > 0 {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "shm", VolumeSource: corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: resource.NewQuantity(spec.ShmSize, resource.BinarySI)},
		}})
		p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "shm", MountPath: "/dev/shm"})
	}
	if spec.Source != nil || spec.Home != "" || (spec.Owner != "" && !isRoot(spec.Owner)) {
		prep := corev1.Container{
			Name:         prepareContainer,
			Image:        spec.Image,
			Command:      []string{"/bin/sh", "-c", prepareScript},
			VolumeMounts: []corev1.VolumeMount{{Name: volumeName, MountPath: volumeRoot}},
			SecurityContext: &corev1.SecurityContext{
				RunAsUser: uid, RunAsGroup: gid, Privileged: sc.Privileged,
			},
		}
		if spec.Source != nil {
			prep.Env = append(prep.Env,
				corev1.EnvVar{Name: "PITLANE_GIT_URL", Value: spec.Source.URL},
				corev1.EnvVar{Name: "PITLANE_GIT_REF", Value: spec.Source.Ref})
		}
		if spec.Owner != "" && !isRoot(spec.Owner) {
			// Handing the files over needs root.
			root := int64(0)
			prep.SecurityContext.RunAsUser, prep.SecurityContext.RunAsGroup = &root, &root
			prep.Env = append(prep.Env, corev1.EnvVar{Name: "PITLANE_OWNER", Value: spec.Owner})
		}
		if spec.Home != "" {
			prep.Env = append(prep.Env, corev1.EnvVar{Name: "PITLANE_HOME", Value: spec.Home})
		}
		p.Spec.InitContainers = []corev1.Container{prep}
	}
	return p, nil
}

func isRoot(user string) bool {
	return user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:")
}

// requests are the pod's resource requests from hostRequirements.
func requests(r Resources) corev1.ResourceRequirements {
	req := corev1.ResourceList{}
	if r.CPUs > 0 {
		req[corev1.ResourceCPU] = *resource.NewQuantity(int64(r.CPUs), resource.DecimalSI)
	}
	if r.Memory > 0 {
		req[corev1.ResourceMemory] = *resource.NewQuantity(r.Memory, resource.BinarySI)
	}
	if len(req) == 0 {
		return corev1.ResourceRequirements{}
	}
	return corev1.ResourceRequirements{Requests: req}
}
