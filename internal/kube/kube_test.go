package kube

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

func TestPodFromSpec(t *testing.T) {
	c, err := NewFromConfig(&rest.Config{Host: "https://127.0.0.1:1"}, Options{StorageClass: "fast"}, "ws")
	if err != nil {
		t.Fatal(err)
	}
	spec := ContainerSpec{
		Name: "pitlane-a", Image: "img:1", Env: []string{"A=1", "B=x=y"},
		Labels:     map[string]string{"dev.pitlane.workspace": "a", "dev.pitlane.source": "https://host/org/a.git"},
		Entrypoint: []string{"/bin/sh"}, Cmd: []string{"-c", "sleep infinity"},
		User: "1000:1001", WorkingDir: "/w", Init: true, Privileged: true, CapAdd: []string{"SYS_PTRACE", "cap_net_admin"},
		SecurityOpt: []string{"seccomp=unconfined"}, NetworkMode: "host", ExtraHosts: []string{"db:10.0.0.5"}, ShmSize: 1 << 30,
		Folder: "/workspaces/a", Home: "/home/dev", Owner: "dev",
		Mounts:    []Mount{{Type: "bind", Source: "/host/clone", Target: "/workspaces/a"}, {Type: "volume", Source: "m2", Target: "/root/.m2"}, {Type: "volume", Target: "/anon"}},
		Source:    &GitSource{URL: "https://host/org/a.git", Ref: "dev"},
		Resources: Resources{CPUs: 4, Memory: 8 << 30, Storage: 32 << 30},
	}
	if err := checkSpec(spec); err != nil {
		t.Fatal(err)
	}
	pvc, err := c.claim(spec)
	if err != nil {
		t.Fatal(err)
	}
	if *pvc.Spec.StorageClassName != "fast" || pvc.Spec.Resources.Requests.Storage().String() != "32Gi" {
		t.Errorf("claim: class %v size %v", *pvc.Spec.StorageClassName, pvc.Spec.Resources.Requests.Storage())
	}
	if pvc.Labels["dev.pitlane.workspace"] != "a" || pvc.Labels[labelManagedBy] != managedBy {
		t.Errorf("claim labels = %v", pvc.Labels)
	}
	if _, ok := pvc.Labels["dev.pitlane.source"]; ok {
		t.Errorf("a URL cannot be a label value, yet it is one: %v", pvc.Labels)
	}
	back, err := decodeSpec(pvc.Annotations)
	if err != nil {
		t.Fatal(err)
	}
	if back.Labels["dev.pitlane.source"] != "https://host/org/a.git" || back.Source.Ref != "dev" || back.Resources.CPUs != 4 || back.Home != "/home/dev" {
		t.Errorf("the spec did not survive its annotation: %+v", back)
	}

	p, err := c.pod(back, back.Labels)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Spec.Containers[0]
	if m.Image != "img:1" || strings.Join(m.Command, " ") != "/bin/sh" || strings.Join(m.Args, " ") != "-c sleep infinity" || m.WorkingDir != "/w" {
		t.Errorf("container = %+v", m)
	}
	if len(m.Env) != 2 || m.Env[1].Name != "B" || m.Env[1].Value != "x=y" {
		t.Errorf("env = %+v", m.Env)
	}
	sc := m.SecurityContext
	if *sc.RunAsUser != 1000 || *sc.RunAsGroup != 1001 || !*sc.Privileged || sc.SeccompProfile.Type != corev1.SeccompProfileTypeUnconfined {
		t.Errorf("security context = %+v", sc)
	}
	if got := sc.Capabilities.Add; len(got) != 2 || got[0] != "SYS_PTRACE" || got[1] != "NET_ADMIN" {
		t.Errorf("capabilities = %v", got)
	}
	if !*p.Spec.ShareProcessNamespace || !p.Spec.HostNetwork || p.Spec.HostAliases[0].IP != "10.0.0.5" || p.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("pod spec = %+v", p.Spec)
	}
	if *p.Spec.AutomountServiceAccountToken {
		t.Error("a workspace must not get the namespace's service account token")
	}
	if m.Resources.Requests.Cpu().String() != "4" || m.Resources.Requests.Memory().String() != "8Gi" {
		t.Errorf("requests = %v", m.Resources.Requests)
	}
	mounts := map[string]string{}
	for _, vm := range m.VolumeMounts {
		mounts[vm.MountPath] = vm.Name + ":" + vm.SubPath
	}
	if mounts["/workspaces/a"] != "workspace:workspace" || mounts["/home/dev"] != "workspace:home" || mounts["/root/.m2"] != "workspace:volumes/m2" ||
		!strings.HasPrefix(mounts["/anon"], "workspace:volumes/anonymous-") || mounts["/dev/shm"] != "shm:" {
		t.Errorf("mounts = %v", mounts)
	}
	if len(p.Spec.InitContainers) != 1 {
		t.Fatalf("init containers = %d", len(p.Spec.InitContainers))
	}
	ic := p.Spec.InitContainers[0]
	env := map[string]string{}
	for _, e := range ic.Env {
		env[e.Name] = e.Value
	}
	if env["PITLANE_GIT_URL"] != "https://host/org/a.git" || env["PITLANE_GIT_REF"] != "dev" || env["PITLANE_OWNER"] != "dev" || env["PITLANE_HOME"] != "/home/dev" || *ic.SecurityContext.RunAsUser != 0 {
		t.Errorf("init container = %+v", ic)
	}

	// Nothing to prepare: no init container.
	plain, err := c.pod(ContainerSpec{Name: "pitlane-b", Image: "img", Folder: "/w"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain.Spec.InitContainers) != 0 {
		t.Errorf("a workspace with nothing to prepare has an init container")
	}
}

func TestCheckSpecRefuses(t *testing.T) {
	base := ContainerSpec{Name: "pitlane-a", Image: "img", Folder: "/w"}
	for _, tc := range []struct {
		name   string
		change func(*ContainerSpec)
		want   string
	}{
		{"bind mount of a local folder", func(s *ContainerSpec) {
			s.Mounts = []Mount{{Type: "bind", Source: "/home/me/.ssh", Target: "/root/.ssh"}}
		}, "not on the cluster"},
		{"device", func(s *ContainerSpec) { s.Devices = []string{"/dev/fuse"} }, "devices"},
		{"user name", func(s *ContainerSpec) { s.User = "vscode" }, "numeric"},
		{"group name", func(s *ContainerSpec) { s.User = "1000:staff" }, "numeric"},
		{"network", func(s *ContainerSpec) { s.NetworkMode = "container:db" }, "network"},
		{"security option", func(s *ContainerSpec) { s.SecurityOpt = []string{"systempaths=unconfined"} }, "security option"},
		{"name", func(s *ContainerSpec) { s.Name = "Pitlane_A" }, "cannot name a pod"},
		{"source without folder", func(s *ContainerSpec) { s.Folder = ""; s.Source = &GitSource{URL: "https://h/r.git"} }, "folder"},
		{"relative target", func(s *ContainerSpec) { s.Mounts = []Mount{{Type: "volume", Source: "v", Target: "rel"}} }, "absolute"},
		{"volume name with a slash", func(s *ContainerSpec) { s.Mounts = []Mount{{Type: "volume", Source: "../x", Target: "/x"}} }, "plain name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.change(&s)
			err := checkSpec(s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("checkSpec = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
	if err := checkSpec(ContainerSpec{Name: "pitlane-a", Image: "img", User: "root", Folder: "/w"}); err != nil {
		t.Fatalf("root is a fine user: %v", err)
	}
}

func TestExecCommand(t *testing.T) {
	if got := command(ExecSpec{Cmd: []string{"true"}}); len(got) != 1 || got[0] != "true" {
		t.Errorf("a plain command is sent as it is: %q", got)
	}
	got := command(ExecSpec{Cmd: []string{"echo", "a b"}, User: "dev", WorkingDir: "/w", Env: []string{"K=v v", "L="}})
	want := []string{"/bin/sh", "-c", execScript, "pitlane-exec", "dev", "/w", "2", "K=v v", "L=", "echo", "a b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("command = %q", got)
	}
}

func TestRegistryRef(t *testing.T) {
	c, _ := NewFromConfig(&rest.Config{Host: "https://127.0.0.1:1"}, Options{ImageRegistry: "registry.example.com:5000/team/"}, "ws")
	got, err := c.RegistryRef("pitlane-app:latest", "sha256:0123456789abcdef0123456789abcdef")
	if err != nil || got != "registry.example.com:5000/team/pitlane-app:0123456789abcdef" {
		t.Fatalf("RegistryRef = %q, %v", got, err)
	}
	none, _ := NewFromConfig(&rest.Config{Host: "https://127.0.0.1:1"}, Options{}, "ws")
	_, err = none.RegistryRef("pitlane-app:latest", "sha256:01")
	if !errors.Is(err, ErrNoRegistry) || !strings.Contains(err.Error(), "--image-registry") {
		t.Fatalf("without a registry: %v", err)
	}
}

func TestNewNoKubeconfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBECONFIG", filepath.Join(dir, "missing"))
	_, err := New(context.Background(), Options{})
	if !errors.Is(err, ErrNoKubeconfig) || !strings.Contains(err.Error(), "KUBECONFIG") {
		t.Fatalf("New without a kubeconfig = %v", err)
	}
	kc := writeKubeconfig(t, "https://127.0.0.1:1")
	_, err = New(context.Background(), Options{Kubeconfig: kc, Context: "nope"})
	if !errors.Is(err, ErrNoKubeconfig) || !strings.Contains(err.Error(), `no context "nope"`) || !strings.Contains(err.Error(), "here") {
		t.Fatalf("New with a missing context = %v", err)
	}
}

func TestNewUnreachable(t *testing.T) {
	// A loopback port that nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	kc := writeKubeconfig(t, "https://"+addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = New(ctx, Options{Kubeconfig: kc})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "context here") {
		t.Fatalf("New against nothing = %v", err)
	}
}

func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config")
	body := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "` + server + `", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: here, context: {cluster: c, user: u, namespace: mine}}]
current-context: here
`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAPIErrors(t *testing.T) {
	c, _ := NewFromConfig(&rest.Config{Host: "https://cluster.example:6443"}, Options{}, "team")
	pods := schema.GroupResource{Resource: "pods"}
	for _, tc := range []struct {
		name string
		err  error
		is   error
		want string
	}{
		{"not found", apierrors.NewNotFound(pods, "x"), ErrNotFound, "not found"},
		{"exists", apierrors.NewAlreadyExists(pods, "x"), ErrConflict, "already exists"},
		{"forbidden", apierrors.NewForbidden(pods, "x", errors.New(`User "u" cannot create resource "pods"`)), ErrForbidden, "you may not create pods in namespace team"},
		{"quota", apierrors.NewForbidden(pods, "x", errors.New("exceeded quota: small, requested: requests.cpu=2")), ErrQuota, "hostRequirements"},
		{"unauthorized", apierrors.NewUnauthorized("bad token"), ErrUnauthorized, "log in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.apiErr(tc.err, "create", "pods")
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("apiErr = %v, want %v mentioning %q", err, tc.is, tc.want)
			}
		})
	}
}
