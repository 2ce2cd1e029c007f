package docker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/pkg/jsonmessage"
	archive "github.com/moby/go-archive"
	"github.com/moby/patternmatcher/ignorefile"
)

// ImageExists reports whether ref is present in the engine's image store.
func (c *Client) ImageExists(ctx context.Context, ref string) (bool, error) {
	_, err := c.api.ImageInspect(ctx, ref)
	if err == nil {
		return true, nil
	}
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	return false, wrap(err)
}

// InspectImage returns an image's configuration.
func (c *Client) InspectImage(ctx context.Context, ref string) (*ImageConfig, error) {
	j, err := c.api.ImageInspect(ctx, ref)
	if err != nil {
		return nil, wrap(err)
	}
	ic := &ImageConfig{ID: j.ID}
	if t, err := time.Parse(time.RFC3339Nano, j.Created); err == nil {
		ic.Created = t
	}
	if j.Config != nil {
		ic.User, ic.Env, ic.Labels, ic.Entrypoint = j.Config.User, j.Config.Env, j.Config.Labels, j.Config.Entrypoint
	}
	return ic, nil
}

// RemoveImage deletes an image; a missing image or one still used by a
// container is left alone.
func (c *Client) RemoveImage(ctx context.Context, ref string) error {
	_, err := c.api.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true})
	if err == nil || cerrdefs.IsNotFound(err) || cerrdefs.IsConflict(err) {
		return nil
	}
	return wrap(err)
}

// outsideDockerfile is the name under which a Dockerfile that lives outside
// the context is added to the context archive.
const outsideDockerfile = ".pitlane.Dockerfile"

// Build builds an image with the engine's classic builder, sending every
// line of build output to out. The error of a failed step carries the
// builder's message.
func (c *Client) Build(ctx context.Context, spec BuildSpec, out func(string)) error {
	excludes, err := readDockerignore(spec.Context)
	if err != nil {
		return err
	}
	dockerfile := spec.Dockerfile
	var extra []byte
	if filepath.IsAbs(dockerfile) {
		extra, err = os.ReadFile(dockerfile)
		if err != nil {
			return fmt.Errorf("reading the Dockerfile: %w", err)
		}
		dockerfile = outsideDockerfile
	}
	tar, err := archive.TarWithOptions(spec.Context, &archive.TarOptions{ExcludePatterns: excludes})
	if err != nil {
		return fmt.Errorf("packing the build context %s: %w", spec.Context, err)
	}
	defer tar.Close()
	var body io.Reader = tar
	if extra != nil {
		body = appendFile(tar, outsideDockerfile, extra)
	}
	args := make(map[string]*string, len(spec.Args))
	for k, v := range spec.Args {
		args[k] = &v
	}
	auths, hosts, sent, lookup := buildAuths(ctx, spec)
	resp, err := c.api.ImageBuild(ctx, body, build.ImageBuildOptions{
		AuthConfigs: auths,
		Tags:        []string{spec.Tag},
		Dockerfile:  dockerfile,
		BuildArgs:   args,
		Target:      spec.Target,
		Labels:      spec.Labels,
		Remove:      true,
		ForceRemove: true,
		Version:     build.BuilderV1,
		NoCache:     spec.NoCache,
		PullParent:  spec.Pull,
		NetworkMode: spec.NetworkMode,
		ExtraHosts:  spec.ExtraHosts,
		ShmSize:     spec.ShmSize,
	})
	if err != nil {
		return fmt.Errorf("starting the image build: %w", wrap(err))
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	var partial strings.Builder
	for {
		var msg jsonmessage.JSONMessage
		if err := dec.Decode(&msg); err != nil {
			if err == io.EOF {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("reading build output: %w", err)
		}
		if msg.Error != nil {
			flush(&partial, out)
			return explainAuth(fmt.Errorf("image build failed: %s", strings.TrimSpace(msg.Error.Message)), hosts, sent, lookup)
		}
		if msg.Stream != "" {
			partial.WriteString(msg.Stream)
			emitLines(&partial, out)
		}
	}
	flush(&partial, out)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func emitLines(b *strings.Builder, out func(string)) {
	s := b.String()
	i := strings.LastIndexByte(s, '\n')
	if i < 0 {
		return
	}
	for _, l := range strings.Split(s[:i], "\n") {
		out(strings.TrimRight(l, "\r"))
	}
	rest := s[i+1:]
	b.Reset()
	b.WriteString(rest)
}

func flush(b *strings.Builder, out func(string)) {
	if b.Len() > 0 {
		out(strings.TrimRight(b.String(), "\r\n"))
		b.Reset()
	}
}

func readDockerignore(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ignorefile.ReadAll(bufio.NewReader(f))
}

// Pull fetches an image from its registry, with the user's Docker
// credentials for it, reporting progress lines to out.
func (c *Client) Pull(ctx context.Context, ref string, out func(string)) error {
	var opts image.PullOptions
	var hosts []string
	sent := map[string]bool{}
	var lookup error
	if host, ok := registryOf(ref); ok {
		hosts = []string{host}
		ac, found, err := registryAuth(ctx, host)
		lookup = err
		if found {
			if opts.RegistryAuth, err = registry.EncodeAuthConfig(ac); err != nil {
				return err
			}
			sent[host] = true
		}
	}
	rc, err := c.api.ImagePull(ctx, ref, opts)
	if err != nil {
		return explainAuth(fmt.Errorf("pulling %s: %w", ref, wrap(err)), hosts, sent, lookup)
	}
	defer rc.Close()
	return followProgress(ctx, rc, "pulling "+ref, out, func(err error) error {
		return explainAuth(err, hosts, sent, lookup)
	})
}

// Tag gives the image src the additional name dst.
func (c *Client) Tag(ctx context.Context, src, dst string) error {
	return wrap(c.api.ImageTag(ctx, src, dst))
}

// Push uploads an image to its registry, with the user's Docker
// credentials for it (as Pull finds them), reporting progress lines to
// out. Without credentials the push is anonymous: the engine refuses an
// empty auth header, so an empty one names just the server.
func (c *Client) Push(ctx context.Context, ref string, out func(string)) error {
	var hosts []string
	sent := map[string]bool{}
	var lookup error
	var ac registry.AuthConfig
	if host, ok := registryOf(ref); ok {
		hosts = []string{host}
		var found bool
		var err error
		ac, found, err = registryAuth(ctx, host)
		lookup = err
		if !found {
			ac = registry.AuthConfig{ServerAddress: host}
		}
		sent[host] = found
	}
	header, err := registry.EncodeAuthConfig(ac)
	if err != nil {
		return err
	}
	rc, err := c.api.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: header})
	if err != nil {
		return explainAuth(fmt.Errorf("pushing %s: %w", ref, wrap(err)), hosts, sent, lookup)
	}
	defer rc.Close()
	return followProgress(ctx, rc, "pushing "+ref, out, func(err error) error {
		return explainAuth(err, hosts, sent, lookup)
	})
}

// followProgress reads the engine's JSON progress stream of a pull or a
// push until it ends, passing status lines (not the byte counters) to
// out. A failure the engine reports in the stream goes through explain,
// which adds what the user can do about credentials.
func followProgress(ctx context.Context, rc io.Reader, what string, out func(string), explain func(error) error) error {
	dec := json.NewDecoder(rc)
	for {
		var msg jsonmessage.JSONMessage
		if err := dec.Decode(&msg); err != nil {
			if err == io.EOF {
				return ctx.Err()
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		if msg.Error != nil {
			return explain(fmt.Errorf("%s: %s", what, msg.Error.Message))
		}
		if msg.Status != "" && msg.Progress == nil {
			line := msg.Status
			if msg.ID != "" {
				line = msg.ID + ": " + line
			}
			out(line)
		}
	}
}
