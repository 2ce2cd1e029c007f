package provider

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestStoreLifecycle(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "pitlane")}
	ps, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Name != Local || !ps[0].BuiltIn || !ps[0].Default {
		t.Fatalf("a fresh store lists only the built-in default: %+v", ps)
	}

	k := Provider{Name: "team", Type: Kubernetes, Context: "prod", Namespace: "dev-ws", StorageClass: "fast", ImageRegistry: "registry.example.com/team"}
	if err := s.Add(k); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(k); !errors.Is(err, ErrExists) {
		t.Fatalf("adding twice: %v, want ErrExists", err)
	}
	if err := s.Add(Provider{Name: Local, Type: Kubernetes}); !errors.Is(err, ErrExists) {
		t.Fatalf("adding the built-in name: %v, want ErrExists", err)
	}
	got, err := s.Get("team")
	if err != nil {
		t.Fatal(err)
	}
	if got.Context != "prod" || got.Namespace != "dev-ws" || got.StorageClass != "fast" || got.ImageRegistry != "registry.example.com/team" || got.Default {
		t.Fatalf("Get = %+v", got)
	}

	if err := s.Use("team"); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Default(); d.Name != "team" {
		t.Fatalf("default after use = %s", d.Name)
	}
	if err := s.Use("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("use of a missing provider: %v", err)
	}
	if err := s.Remove(Local); !errors.Is(err, ErrInvalid) {
		t.Fatalf("removing the built-in: %v", err)
	}
	if err := s.Remove("team"); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Default(); d.Name != Local {
		t.Fatalf("default after removing it = %s, want %s", d.Name, Local)
	}
	if err := s.Remove("team"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
	if _, err := s.Get("team"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), Local) {
		t.Fatalf("Get of a removed provider: %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Provider
		want string // "" for valid
	}{
		{"kubernetes", Provider{Name: "k", Type: Kubernetes}, ""},
		{"kubernetes full", Provider{Name: "k-1", Type: Kubernetes, Context: "c", Namespace: "ns", StorageClass: "s", ImageRegistry: "r.example:5000/p"}, ""},
		{"docker ssh", Provider{Name: "box", Type: Docker, Host: "ssh://me@box"}, ""},
		{"bad name", Provider{Name: "Team", Type: Kubernetes}, "lowercase"},
		{"bad type", Provider{Name: "x", Type: "nomad"}, "kubernetes or docker"},
		{"docker with namespace", Provider{Name: "x", Type: Docker, Namespace: "ns"}, "for kubernetes providers"},
		{"kubernetes with host", Provider{Name: "x", Type: Kubernetes, Host: "ssh://h"}, "for docker providers"},
		{"host without scheme", Provider{Name: "x", Type: Docker, Host: "box"}, "scheme"},
		{"registry with scheme", Provider{Name: "x", Type: Kubernetes, ImageRegistry: "https://r"}, "without a scheme"},
		{"bad namespace", Provider{Name: "x", Type: Kubernetes, Namespace: "My_NS"}, "namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.p)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
}

func TestBrokenFileSaysWhere(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Store{Dir: dir}.List()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, FileName)) {
		t.Fatalf("List of a broken file = %v, want an error naming the file", err)
	}
	// Nothing is overwritten: the user's file is kept as it was.
	if err := (Store{Dir: dir}).Add(Provider{Name: "k", Type: Kubernetes}); err == nil {
		t.Fatal("Add over a broken file succeeded")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, FileName)); string(b) != "{not json" {
		t.Fatalf("the broken file was changed: %q", b)
	}
}

func TestConcurrentAddsKeepAll(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Add(Provider{Name: "k" + string(rune('a'+i)), Type: Kubernetes}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ps, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 9 {
		t.Fatalf("after 8 concurrent adds: %d providers, want 9", len(ps))
	}
}
