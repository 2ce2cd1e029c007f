package workspace

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pitlane/pitlane/internal/runtime"
)

// The fake runtime's image cache: tags share an image, commits make new
// ones, pushes go to an in-memory registry.

func (f *fakeRuntime) Tag(_ context.Context, ref, tag string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, ok := f.images[ref]
	if !ok {
		return fmt.Errorf("%w: image %s", runtime.ErrNotFound, ref)
	}
	f.images[tag] = img
	return nil
}

func (f *fakeRuntime) Images(_ context.Context, labels ...string) ([]runtime.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	byID := map[string]*runtime.Image{}
	for ref, img := range f.images {
		ok := true
		for _, l := range labels {
			k, v, hasV := strings.Cut(l, "=")
			got, has := img.Labels[k]
			if !has || (hasV && got != v) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		ri := byID[img.ID]
		if ri == nil {
			ri = &runtime.Image{ID: img.ID, Size: 1000, Created: img.Created, Labels: img.Labels}
			byID[img.ID] = ri
		}
		if !strings.HasPrefix(ref, "sha256:") {
			ri.Tags = append(ri.Tags, ref)
		}
	}
	var out []runtime.Image
	for _, ri := range byID {
		sort.Strings(ri.Tags)
		out = append(out, *ri)
	}
	return out, nil
}

func (f *fakeRuntime) Commit(_ context.Context, id string, spec runtime.CommitSpec) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byName(id) == nil {
		return "", runtime.ErrNotFound
	}
	from, ok := f.images[spec.ConfigFrom]
	if !ok {
		return "", fmt.Errorf("%w: image %s", runtime.ErrNotFound, spec.ConfigFrom)
	}
	f.commits = append(f.commits, spec)
	img := &runtime.ImageConfig{ID: fmt.Sprintf("sha256:commit%d", len(f.commits)), User: from.User, Env: from.Env, Labels: spec.Labels, Created: time.Now()}
	f.images[spec.Tag] = img
	return img.ID, nil
}

func (f *fakeRuntime) CopyDir(context.Context, string, string, string, int, int) error { return nil }

func (f *fakeRuntime) Push(_ context.Context, ref string, _ func(string)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, ok := f.images[ref]
	if !ok {
		return fmt.Errorf("%w: image %s", runtime.ErrNotFound, ref)
	}
	if f.registry == nil {
		f.registry = map[string]*runtime.ImageConfig{}
	}
	cp := *img
	f.registry[ref] = &cp
	return nil
}

// untag removes every name of the images with this label value, as if
// the machine had never had them.
func (f *fakeRuntime) forgetImages(label, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ref, img := range f.images {
		if img.Labels[label] == value {
			delete(f.images, ref)
		}
	}
}

var _ imageCache = (*fakeRuntime)(nil)
