package workspace

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/runtime"
)

func TestValidateName(t *testing.T) {
	good := []string{"a", "app", "my-app-2", "0x", "a23456789012345678901234567890123456789012345678901234567890123"}
	bad := []string{"", "-a", "a-", "App", "a_b", "a.b", "a b", "é", "a234567890123456789012345678901234567890123456789012345678901234"}
	for _, n := range good {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v", n, err)
		}
	}
	for _, n := range bad {
		if err := ValidateName(n); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateName(%q) = %v, want ErrInvalidName", n, err)
		}
	}
}

func TestLabelsRoundTrip(t *testing.T) {
	ws := &Workspace{
		Name: "app", Source: Source{URL: "https://h/o/app.git", Ref: "dev"}, Image: "img:1",
		ConfigKind: KindDevcontainer, ConfigPath: ".devcontainer/devcontainer.json",
		LocalFolder: "/data/app/src/app", Folder: "/workspaces/app", RemoteUser: "dev",
		SSHHost: "app.pitlane", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Ports: []int{3000, 8080},
	}
	cfg := &devcontainer.Config{RemoteEnv: map[string]string{"A": "b"}, PostStartCommand: &devcontainer.Command{Shell: "echo"}}
	l := encodeLabels(record{ws: ws, instance: "default", builtImage: "pitlane-app:latest", configHash: "h", config: cfg})
	if l[LabelWorkspace] != "app" || l[LabelInstance] != "default" || l[LabelBuiltImage] != "pitlane-app:latest" {
		t.Errorf("labels = %v", l)
	}
	got := decodeLabels(l)
	if !reflect.DeepEqual(got, ws) {
		t.Errorf("decodeLabels = %+v\nwant %+v", got, ws)
	}
	if c := decodeConfig(l); c.RemoteEnv["A"] != "b" || c.PostStartCommand.Shell != "echo" {
		t.Errorf("decodeConfig = %+v", c)
	}
}

func TestParseMount(t *testing.T) {
	tests := []struct {
		in      string
		want    runtime.Mount
		wantErr bool
	}{
		{"source=/a,target=/b,type=bind", runtime.Mount{Type: "bind", Source: "/a", Target: "/b"}, false},
		{"type=volume,src=vol,dst=/data,readonly", runtime.Mount{Type: "volume", Source: "vol", Target: "/data", ReadOnly: true}, false},
		{"source=/a,target=/b,type=bind,consistency=cached", runtime.Mount{Type: "bind", Source: "/a", Target: "/b"}, false},
		{"source=/a", runtime.Mount{}, true},
		{"type=tmpfs,target=/t", runtime.Mount{}, true},
		{"source=/a,target=/b,bogus=1", runtime.Mount{}, true},
	}
	for _, tc := range tests {
		got, err := parseMount(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseMount(%q) err = %v", tc.in, err)
			continue
		}
		if !tc.wantErr && got != tc.want {
			t.Errorf("parseMount(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestLineWriter(t *testing.T) {
	var lines []string
	w := newLineWriter(func(s string) { lines = append(lines, s) })
	w.Write([]byte("a\nb"))
	w.Write([]byte("c\r\nd"))
	w.Flush()
	if want := []string{"a", "bc", "d"}; !reflect.DeepEqual(lines, want) {
		t.Errorf("lines = %q, want %q", lines, want)
	}
}
