package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWorkspaceEnv(t *testing.T) {
	t.Setenv("PITLANE_TEST_FROM_HOST", "host value")
	os.Unsetenv("PITLANE_TEST_UNSET")
	dir := t.TempDir()
	f := filepath.Join(dir, "env")
	os.WriteFile(f, []byte("# comment\n\nA=1\n  B=two words = kept\r\nPITLANE_TEST_FROM_HOST\nPITLANE_TEST_UNSET\nQUOTED=\"as written\"\n"), 0o600)
	got, err := workspaceEnv([]string{f}, []string{"A=from-flag", "EMPTY="})
	if err != nil {
		t.Fatal(err)
	}
	want := `B=two words = kept|PITLANE_TEST_FROM_HOST=host value|QUOTED="as written"|A=from-flag|EMPTY=`
	if strings.Join(got, "|") != want {
		t.Fatalf("got  %q\nwant %q", strings.Join(got, "|"), want)
	}
	for _, bad := range []string{"1X=y", "A-B=c", "=v"} {
		if _, err := workspaceEnv(nil, []string{bad}); err == nil || !strings.Contains(err.Error(), "KEY=VALUE") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	os.WriteFile(f, []byte("OK=1\nnot valid=2\n"), 0o600)
	if _, err := workspaceEnv([]string{f}, nil); err == nil || !strings.Contains(err.Error(), f+" line 2") {
		t.Errorf("bad file line: %v", err)
	}
	if _, err := workspaceEnv([]string{filepath.Join(dir, "missing")}, nil); err == nil || !strings.Contains(err.Error(), "--env-file") {
		t.Errorf("missing file: %v", err)
	}
}
