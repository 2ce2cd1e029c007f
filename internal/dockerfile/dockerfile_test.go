package dockerfile

import (
	"reflect"
	"testing"
)

func TestBaseImages(t *testing.T) {
	tests := []struct {
		name       string
		dockerfile string
		args       map[string]string
		want       []string
		wantErr    bool
	}{
		{"one", "FROM debian:12\nRUN true\n", nil, []string{"debian:12"}, false},
		{"stages", "FROM golang:1 AS build\nFROM build AS test\nFROM scratch\nCOPY --from=build /x /x\nFROM Debian:12\n", nil, []string{"golang:1", "Debian:12"}, false},
		{"arg default", "ARG BASE=debian\nARG TAG=12\nFROM ${BASE}:$TAG\n", nil, []string{"debian:12"}, false},
		{"arg given", "ARG BASE=debian\nFROM $BASE\n", map[string]string{"BASE": "alpine:3"}, []string{"alpine:3"}, false},
		{"platform flag and continuation", "FROM --platform=linux/amd64 \\\n  debian:12 AS a\n", nil, []string{"debian:12"}, false},
		{"arg after from does not count", "FROM debian:12\nARG BASE=x\nFROM ${BASE:-ubuntu}\n", nil, []string{"debian:12", "ubuntu"}, false},
		{"registry, defaults and copy --from", `# syntax is ignored
ARG REG=127.0.0.1:5000
ARG TAG
FROM --platform=linux/amd64 ${REG}/team/base:${TAG:-bookworm} AS build
RUN make
FROM build AS test
FROM debian:bookworm
COPY --from=build /out /out
COPY --from=0 /x /x
COPY --from=ghcr.io/org/tools:1 /bin/t /bin/t
COPY --from=debian:bookworm /etc/os-release /x
FROM \
  scratch
`, map[string]string{"TAG": "v2"}, []string{"127.0.0.1:5000/team/base:v2", "debian:bookworm", "ghcr.io/org/tools:1"}, false},
		{"no from", "RUN true\n", nil, nil, true},
		{"empty expansion", "ARG BASE\nFROM $BASE\n", nil, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BaseImages([]byte(tc.dockerfile), tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("BaseImages = %q, want %q", got, tc.want)
			}
		})
	}
}
