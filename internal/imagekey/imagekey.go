// Package imagekey computes the content key of a workspace image: a digest
// of everything that decides what the image holds (the configuration, the
// Dockerfile and its build context as the builder sees it, the features
// and their options, the base images), so that an image built once can be
// found again, here or in a registry, instead of being built again. It is
// pure: it reads files, never a container engine.
package imagekey

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// version changes whenever the way a key is computed changes, so keys of
// different versions never match.
const version = "pitlane-image-key/1"

// Inputs are what a key is computed from. Values that would tell secrets
// or this machine's paths must not be put here unhashed by the caller: the
// key itself is a digest and reveals none of them.
type Inputs struct {
	// Kind is how the configuration was found (devcontainer, dockerfile).
	Kind string `json:"kind"`
	// Config is the part of the configuration that decides the image's
	// content, as canonical JSON.
	Config json.RawMessage `json:"config"`
	// Dockerfile is the Dockerfile's content; empty for an image-based
	// configuration.
	Dockerfile string `json:"dockerfile,omitempty"`
	// Context is the digest of the build context (see ContextDigest).
	Context string `json:"context,omitempty"`
	// Features are the features in install order.
	Features []Feature `json:"features,omitempty"`
	// Bases are the image IDs of the base images (FROM, or the
	// configuration's image), in order.
	Bases []string `json:"bases"`
}

// Feature is one feature's share of a key.
type Feature struct {
	Ref string `json:"ref"`
	// Digest is the digest of the feature's folder (DirDigest).
	Digest string `json:"digest"`
	// Options are the option values the install script gets (NAME=value).
	Options []string `json:"options,omitempty"`
}

// Key returns the hex SHA-256 key of in.
func Key(in Inputs) string {
	b, err := json.Marshal(struct {
		Version string `json:"version"`
		Inputs
	}{version, in})
	if err != nil {
		// Every field marshals; a failure is a programming error.
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Canonical returns v as JSON with object keys sorted (encoding/json sorts
// map keys; structs keep their field order, which is fixed).
func Canonical(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	// A round trip through any sorts the keys of struct fields too, so
	// two structs that marshal the same content compare equal.
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, err
	}
	return json.Marshal(x)
}

// ContextDigest is the digest of the files of a build context that the
// builder would receive: every file, folder and symlink of dir, less those
// that dir's .dockerignore excludes (with the builder's rules, exceptions
// included). Each entry counts with its path, type, executable bit and
// content (or link target); times and owners do not count, so a fresh
// clone has the same digest as the folder it came from.
func ContextDigest(dir string) (string, error) {
	patterns, err := readIgnore(dir)
	if err != nil {
		return "", err
	}
	return treeDigest(dir, patterns)
}

// DirDigest is the digest of every file below dir (no ignore file).
func DirDigest(dir string) (string, error) {
	return treeDigest(dir, nil)
}

func readIgnore(dir string) ([]string, error) {
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

func treeDigest(dir string, patterns []string) (string, error) {
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(dir, ".dockerignore"), err)
	}
	h := sha256.New()
	type parent struct {
		path string
		info patternmatcher.MatchInfo
	}
	var parents []parent
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		for len(parents) > 0 && !strings.HasPrefix(rel, parents[len(parents)-1].path+string(filepath.Separator)) {
			parents = parents[:len(parents)-1]
		}
		var pinfo patternmatcher.MatchInfo
		if len(parents) > 0 {
			pinfo = parents[len(parents)-1].info
		}
		skip, info, err := pm.MatchesUsingParentResults(rel, pinfo)
		if err != nil {
			return err
		}
		if d.IsDir() {
			parents = append(parents, parent{rel, info})
		}
		if skip {
			if d.IsDir() && !exceptionBelow(pm, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		return hashEntry(h, p, filepath.ToSlash(rel), d)
	})
	if err != nil {
		return "", fmt.Errorf("reading the build context %s: %w", dir, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// exceptionBelow reports whether an exception pattern (!path) may bring
// back something below the excluded folder rel, as the builder checks.
func exceptionBelow(pm *patternmatcher.PatternMatcher, rel string) bool {
	if !pm.Exclusions() {
		return false
	}
	prefix := rel + string(filepath.Separator)
	for _, pat := range pm.Patterns() {
		if pat.Exclusion() && strings.HasPrefix(pat.String()+string(filepath.Separator), prefix) {
			return true
		}
	}
	return false
}

func hashEntry(h io.Writer, p, rel string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	mode := info.Mode()
	switch {
	case mode.IsDir():
		fmt.Fprintf(h, "d %q\n", rel)
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "l %q %q\n", rel, target)
	case mode.IsRegular():
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fh := sha256.New()
		if _, err := io.Copy(fh, f); err != nil {
			return err
		}
		fmt.Fprintf(h, "f %q %t %x\n", rel, mode&0o111 != 0, fh.Sum(nil))
	default:
		// Sockets, pipes and devices do not reach the builder's context
		// as content; their presence alone counts.
		fmt.Fprintf(h, "o %q %s\n", rel, mode.Type())
	}
	return nil
}
