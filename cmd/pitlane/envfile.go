package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/pitlane/pitlane/internal/workspace"
)

// workspaceEnv builds a workspace's environment from --env-file files and
// then --env entries, as docker run reads them: KEY=VALUE taken as
// written, a bare KEY takes this machine's value (and is left out when it
// has none), blank lines and lines starting with # are skipped.
func workspaceEnv(files, entries []string) ([]string, error) {
	var env []string
	add := func(where, kv string) error {
		k, _, ok := strings.Cut(kv, "=")
		if !ok {
			v, set := os.LookupEnv(strings.TrimSpace(kv))
			if !set {
				return nil
			}
			k, kv = strings.TrimSpace(kv), strings.TrimSpace(kv)+"="+v
		}
		if err := workspace.CheckEnv([]string{kv}); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		for i, e := range env {
			if strings.HasPrefix(e, k+"=") {
				env = append(env[:i], env[i+1:]...)
				break
			}
		}
		env = append(env, kv)
		return nil
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("--env-file: %w", err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		n := 0
		for sc.Scan() {
			n++
			line := strings.TrimLeft(sc.Text(), " \t")
			line = strings.TrimSuffix(line, "\r")
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if err := add(fmt.Sprintf("%s line %d", f, n), line); err != nil {
				fh.Close()
				return nil, err
			}
		}
		err = sc.Err()
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
	}
	for _, e := range entries {
		if err := add("--env", e); err != nil {
			return nil, err
		}
	}
	return env, nil
}
