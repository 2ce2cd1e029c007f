package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/pitlane/pitlane/internal/testenv"
	"github.com/pitlane/pitlane/internal/workspace"
)

func dockerCLI(t *testing.T, stdin string, args ...string) {
	t.Helper()
	cmd := exec.Command("docker", args...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// pushImage publishes a local image under ref with uncompressed layers:
// docker push would spend minutes compressing the base image's layer.
func pushImage(t *testing.T, local, ref, user, password string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	saved := filepath.Join(dir, "image.tar")
	dockerCLI(t, "", "save", "-o", saved, local)
	f, err := os.Open(saved)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		p := filepath.Join(dir, "x", filepath.FromSlash(hdr.Name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		out, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		out.Close()
	}
	f.Close()
	os.Remove(saved)
	var manifest []struct {
		Config string
		Layers []string
	}
	raw, err := os.ReadFile(filepath.Join(dir, "x", "manifest.json"))
	if err != nil || json.Unmarshal(raw, &manifest) != nil || len(manifest) != 1 {
		t.Fatalf("docker save wrote an unexpected manifest.json: %s (%v)", raw, err)
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := remote.NewRepository(reference.Domain(named) + "/" + reference.Path(named))
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	repo.Client = &auth.Client{Credential: auth.StaticCredential(reference.Domain(named), auth.Credential{Username: user, Password: password})}
	push := func(path, mediaType string) ocispec.Descriptor {
		b, err := os.Open(filepath.Join(dir, "x", filepath.FromSlash(path)))
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		d, err := digest.FromReader(b)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := b.Stat()
		b.Seek(0, io.SeekStart)
		desc := ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: st.Size()}
		if err := repo.Push(ctx, desc, b); err != nil {
			t.Fatalf("pushing %s: %v", path, err)
		}
		return desc
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: push(manifest[0].Config, ocispec.MediaTypeImageConfig)}
	for _, l := range manifest[0].Layers {
		m.Layers = append(m.Layers, push(l, ocispec.MediaTypeImageLayer))
	}
	body, _ := json.Marshal(m)
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(body), Size: int64(len(body))}
	tag := ref[strings.LastIndex(ref, ":")+1:]
	if err := repo.Manifests().PushReference(ctx, desc, bytes.NewReader(body), tag); err != nil {
		t.Fatalf("pushing the manifest: %v", err)
	}
}

// TestPrivateImage creates workspaces from an image in a registry that
// wants credentials, by image and by a Dockerfile's FROM: both fail with
// the way to log in before `docker login`, and work after it.
func TestPrivateImage(t *testing.T) {
	c := newCLI(t)
	reg := testenv.StartRegistry(t, true)
	host, user, password := reg.Addr, reg.User, reg.Password
	image := host + "/pitlane-test/base:" + testenv.ID()
	t.Cleanup(func() { exec.Command("docker", "rmi", image).Run() })
	pushImage(t, workspace.DefaultImage, image, user, password)

	byImage := filepath.Join(t.TempDir(), "byimage")
	os.MkdirAll(byImage, 0o755)
	os.WriteFile(filepath.Join(byImage, ".devcontainer.json"), []byte(`{"image":"`+image+`"}`), 0o644)
	byBuild := filepath.Join(t.TempDir(), "bybuild")
	os.MkdirAll(byBuild, 0o755)
	os.WriteFile(filepath.Join(byBuild, "Dockerfile"), []byte("ARG BASE="+image+"\nFROM ${BASE}\nRUN echo built > /built\n"), 0o644)

	want := "log in with `docker login " + host + "`"
	for _, src := range []string{byImage, byBuild} {
		_, errOut, code := c.run("create", src, "--name", "private-"+testenv.ID())
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("create from %s before docker login: exit %d, want a message with %q:\n%s", filepath.Base(src), code, want, errOut)
		}
	}

	// The user's own login, in their Docker config.
	home := os.Getenv("HOME")
	os.MkdirAll(home, 0o755)
	dockerCLI(t, password, "--config", filepath.Join(home, ".docker"), "login", host, "-u", user, "--password-stdin")
	for _, tc := range []struct{ src, check string }{{byImage, "true"}, {byBuild, "cat /built"}} {
		name := "private-" + testenv.ID()
		out, errOut, code := c.run("create", tc.src, "--name", name)
		if code != 0 {
			t.Fatalf("create from %s after docker login: %d\n%s\n%s", filepath.Base(tc.src), code, out, errOut)
		}
		if _, errOut, code := c.run("exec", name, "--", "sh", "-c", tc.check); code != 0 {
			t.Errorf("%s: %s", tc.check, errOut)
		}
		logs, _, _ := c.run("logs", name)
		if strings.Contains(logs, password) {
			t.Errorf("the log holds the registry password")
		}
	}
}
