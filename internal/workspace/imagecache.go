package workspace

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pitlane/pitlane/internal/runtime"
)

// CachedImage is an image in Pitlane's cache, as `pitlane images` shows
// it.
type CachedImage struct {
	Key string `json:"key"`
	ID  string `json:"id"`
	// Tags are its names; empty once a newer image took its key.
	Tags    []string  `json:"tags"`
	Size    int64     `json:"size"`
	Created time.Time `json:"created"`
	// LastUsed is when a create, rebuild or prebuild last used it (its
	// creation when never).
	LastUsed time.Time `json:"lastUsed"`
	// Baked are the setup phases run into it.
	Baked []string `json:"baked"`
	// UsedBy are the workspaces whose containers were made from it.
	UsedBy []string `json:"usedBy"`
}

func (m *Manager) imageUsePath() string { return filepath.Join(m.opts.DataDir, "images.json") }

func (m *Manager) readImageUse() map[string]time.Time {
	use := map[string]time.Time{}
	if b, err := os.ReadFile(m.imageUsePath()); err == nil {
		_ = json.Unmarshal(b, &use)
	}
	return use
}

// touchImage records that the cached image of key was just used.
func (m *Manager) touchImage(key string) {
	unlock, err := m.flock("images", true)
	if err != nil {
		return
	}
	defer unlock()
	use := m.readImageUse()
	use[key] = time.Now().UTC()
	if b, err := json.Marshal(use); err == nil && m.mkdirPrivate(m.opts.DataDir) == nil {
		_ = writeFileAtomic(m.imageUsePath(), b, 0o600)
	}
}

// Images lists the images in this instance's cache, most recently used
// first, with the workspaces that use each.
func (m *Manager) Images(ctx context.Context) ([]CachedImage, error) {
	c, ok := m.cache()
	if !ok {
		return []CachedImage{}, nil
	}
	imgs, err := c.Images(ctx, LabelCacheKey)
	if err != nil {
		return nil, m.engineErr(err)
	}
	users, err := m.imageUsers(ctx)
	if err != nil {
		return nil, err
	}
	use := m.readImageUse()
	out := []CachedImage{}
	for _, img := range imgs {
		if !m.ownCached(img) {
			continue
		}
		key := img.Labels[LabelCacheKey]
		ci := CachedImage{Key: key, ID: img.ID, Tags: img.Tags, Size: img.Size, Created: img.Created.UTC(), Baked: bakedOf(img.Labels), UsedBy: []string{}}
		if ci.Tags == nil {
			ci.Tags = []string{}
		}
		if ci.Baked == nil {
			ci.Baked = []string{}
		}
		ci.LastUsed = ci.Created
		if t, ok := use[key]; ok && t.After(ci.LastUsed) && slices.Contains(ci.Tags, m.CacheRef(key)) {
			ci.LastUsed = t
		}
		ci.UsedBy = users.of(img.ID, key, slices.Contains(ci.Tags, m.CacheRef(key)))
		sort.Strings(ci.UsedBy)
		out = append(out, ci)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastUsed.After(out[j].LastUsed) })
	return out, nil
}

// ownCached reports whether a cached image is this instance's: built by
// it, or tagged in its repository (a pulled image keeps the labels of the
// instance that built it).
func (m *Manager) ownCached(img runtime.Image) bool {
	if img.Labels[LabelInstance] == m.opts.Instance {
		return true
	}
	for _, t := range img.Tags {
		if strings.HasPrefix(t, m.cacheRepo()+":") {
			return true
		}
	}
	return false
}

// users are the containers that use cached images, of every instance on
// the engine (an image is never removed under anyone's workspace).
type users struct {
	// byImage maps an image ID to the workspaces (or containers) made
	// from that very image; byKey maps a key to those whose container
	// records it (made from the image of that key, perhaps with a uid
	// layer on top).
	byImage, byKey map[string][]string
}

// of returns the users of the image id of key; current says whether it
// is the image the key names now (containers that record only the key
// were made from that one, perhaps with a uid layer on top).
func (u *users) of(id, key string, current bool) []string {
	list := append([]string{}, u.byImage[id]...)
	if current {
		list = append(list, u.byKey[key]...)
	}
	sort.Strings(list)
	return slices.Compact(list)
}

func (m *Manager) imageUsers(ctx context.Context) (*users, error) {
	cs, err := m.rt.List(ctx)
	if err != nil {
		return nil, m.engineErr(err)
	}
	u := &users{byImage: map[string][]string{}, byKey: map[string][]string{}}
	for _, c := range cs {
		who := c.Labels[LabelWorkspace]
		if who == "" || c.Labels[LabelInstance] != m.opts.Instance {
			// Another instance's workspace, or any other container:
			// it counts as a user, under its container name.
			who = c.Name
			if c.Labels[LabelWorkspace] != "" {
				who = c.Labels[LabelWorkspace] + " (instance " + c.Labels[LabelInstance] + ")"
			}
		}
		if c.ImageID != "" {
			u.byImage[c.ImageID] = append(u.byImage[c.ImageID], who)
		}
		// A container that runs an image of its own (a uid layer) was
		// made from the cached image its key names, underneath.
		if k := c.Labels[LabelCacheKey]; k != "" && c.Labels[LabelBuiltImage] != "" {
			u.byKey[k] = append(u.byKey[k], who)
		}
	}
	return u, nil
}

// PruneOptions say which unused cached images Manager.PruneImages keeps.
type PruneOptions struct {
	// Keep is how many of the most recently used unused images stay.
	Keep int
	// OlderThan, if set, removes only images last used longer ago.
	OlderThan time.Duration
	// DryRun lists what would go without removing it.
	DryRun bool
}

// PruneImages removes cached images that no container uses (of any
// instance), except the opts.Keep most recently used and those used
// within opts.OlderThan. It returns what it removed.
func (m *Manager) PruneImages(ctx context.Context, opts PruneOptions) ([]CachedImage, error) {
	if opts.Keep < 0 || opts.OlderThan < 0 {
		return nil, fmt.Errorf("--keep and --older-than cannot be negative")
	}
	unlock, err := m.flock("images-prune", false)
	if err != nil {
		return nil, fmt.Errorf("%w: another prune is under way", ErrBusy)
	}
	defer unlock()
	if !opts.DryRun {
		m.removeDeadPrebuilds(ctx)
	}
	imgs, err := m.Images(ctx)
	if err != nil {
		return nil, err
	}
	removed := []CachedImage{}
	kept := 0
	for _, img := range imgs {
		if len(img.UsedBy) > 0 {
			continue
		}
		if kept < opts.Keep {
			kept++
			continue
		}
		if opts.OlderThan > 0 && time.Since(img.LastUsed) < opts.OlderThan {
			continue
		}
		if !opts.DryRun {
			if err := m.removeCached(ctx, img); err != nil {
				return removed, err
			}
		}
		removed = append(removed, img)
	}
	return removed, nil
}

// removeCached removes a cached image by each of its names, then by ID,
// checking first that no container started using it meanwhile (the
// engine refuses to remove an image a container uses, too).
func (m *Manager) removeCached(ctx context.Context, img CachedImage) error {
	u, err := m.imageUsers(ctx)
	if err != nil {
		return err
	}
	if len(u.of(img.ID, img.Key, slices.Contains(img.Tags, m.CacheRef(img.Key)))) > 0 {
		return nil
	}
	for _, t := range img.Tags {
		if err := m.rt.RemoveImage(ctx, t); err != nil {
			return m.engineErr(err)
		}
	}
	if len(img.Tags) == 0 {
		if err := m.rt.RemoveImage(ctx, img.ID); err != nil {
			return m.engineErr(err)
		}
	}
	return nil
}

// removeDeadPrebuilds removes the containers of prebuilds whose process
// died (a prebuild under way holds its key's lock).
func (m *Manager) removeDeadPrebuilds(ctx context.Context) {
	cs, err := m.rt.List(ctx, LabelCacheKey, LabelInstance+"="+m.opts.Instance)
	if err != nil {
		return
	}
	for _, c := range cs {
		key := c.Labels[LabelCacheKey]
		if c.Labels[LabelWorkspace] != "" || !strings.HasPrefix(c.Name, "pitlane-prebuild-"+ShortKey(key)) {
			continue
		}
		unlock, err := m.flock("prebuild-"+ShortKey(key), false)
		if err != nil {
			continue
		}
		_ = m.rt.Remove(ctx, c.ID)
		unlock()
	}
}
