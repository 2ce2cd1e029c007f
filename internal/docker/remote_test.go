package docker

import "testing"

func TestIsRemoteHost(t *testing.T) {
	for _, tc := range []struct {
		host   string
		remote bool
	}{
		{"unix:///var/run/docker.sock", false},
		{"npipe:////./pipe/docker_engine", false},
		{"tcp://127.0.0.1:2375", false},
		{"tcp://localhost:2375", false},
		{"tcp://[::1]:2375", false},
		{"tcp://10.0.0.5:2376", true},
		{"tcp://box.example.com:2376", true},
		{"ssh://me@box.example.com", true},
		{"ssh://root@127.0.0.1:2222/run/docker.sock", true},
	} {
		if got := IsRemoteHost(tc.host); got != tc.remote {
			t.Errorf("IsRemoteHost(%q) = %v, want %v", tc.host, got, tc.remote)
		}
	}
}
