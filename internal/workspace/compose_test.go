package workspace

import (
	"slices"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/runtime"
)

func testProject() *runtime.ComposeProject {
	return &runtime.ComposeProject{Name: "p", Services: []runtime.ComposeService{
		{Name: "app", DependsOn: []string{"db"}, Binds: []runtime.Mount{{Type: "bind", Source: "/src", Target: "/workspace"}}},
		{Name: "db", DependsOn: []string{"cache"}},
		{Name: "cache"},
		{Name: "tools", Privileged: true, CapAdd: []string{"sys_admin"}, Devices: []string{"/dev/fuse"}, NetworkMode: "host", Pid: "host",
			Binds: []runtime.Mount{{Type: "bind", Source: "/var/run/docker.sock", Target: "/var/run/docker.sock"}},
			Build: &runtime.BuildSpec{Context: "/elsewhere"}},
	}}
}

func TestRunSet(t *testing.T) {
	p := testProject()
	for _, tc := range []struct {
		name string
		spec devcontainer.ComposeSpec
		want []string
		err  string
	}{
		{name: "all by default", spec: devcontainer.ComposeSpec{Service: "app"}, want: []string{"app", "db", "cache", "tools"}},
		{name: "the workspace service and what it needs", spec: devcontainer.ComposeSpec{Service: "app", RunServices: []string{"app"}}, want: []string{"app", "db", "cache"}},
		{name: "runServices without the workspace service", spec: devcontainer.ComposeSpec{Service: "cache", RunServices: []string{"tools"}}, want: []string{"tools", "cache"}},
		{name: "an unknown service", spec: devcontainer.ComposeSpec{Service: "web"}, err: `service names the service "web", which the Compose files do not define (they define app, db, cache, tools)`},
		{name: "an unknown run service", spec: devcontainer.ComposeSpec{Service: "app", RunServices: []string{"nope"}}, err: `runServices names the service "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runSet(p, &tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("runSet = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestComposeTrust(t *testing.T) {
	p := testProject()
	if items := composeTrust(p, []string{"app", "db", "cache"}, "/src"); len(items) != 0 {
		t.Fatalf("services that mount only the source ask for %v", items)
	}
	var got []string
	for _, it := range composeTrust(p, []string{"app", "tools"}, "/src") {
		if it.From != "Compose service tools" {
			t.Errorf("%v: from %q", it, it.From)
		}
		got = append(got, it.Kind+" "+it.Detail)
	}
	want := []string{
		"privileged privileged mode", "capability SYS_ADMIN", "device /dev/fuse", "hostNetwork network_mode: host",
		"hostNamespace this machine's pid namespace", "bindMount /var/run/docker.sock to /var/run/docker.sock", "buildContext /elsewhere",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("trust items:\n%q\nwant\n%q", got, want)
	}
}
