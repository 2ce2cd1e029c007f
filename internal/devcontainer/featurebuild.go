package devcontainer

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// FeatureBuild describes the image build that installs features on top of
// a base image.
type FeatureBuild struct {
	// Base is the image to start from.
	Base string
	// ImageUser is the base image's USER, restored at the end.
	ImageUser string
	// RemoteUser and ContainerUser are passed to install scripts as
	// _REMOTE_USER and _CONTAINER_USER (with their home folders).
	RemoteUser, ContainerUser string
	Features                  []*Feature
}

// WriteContext fills dir (an empty folder) with a build context: a
// Dockerfile and one folder per feature holding its files and the
// environment its install.sh runs with.
func (b *FeatureBuild) WriteContext(dir string) error {
	var df strings.Builder
	fmt.Fprintf(&df, "FROM %s\nUSER root\n", b.Base)
	for i, f := range b.Features {
		name := fmt.Sprintf("%d-%s", i, safeFolder(f.Meta.ID))
		dst := filepath.Join(dir, "features", name)
		if err := copyTree(f.Dir, dst); err != nil {
			return fmt.Errorf("copying feature %q: %w", f.Ref, err)
		}
		var env strings.Builder
		for _, kv := range f.Values {
			k, v, _ := strings.Cut(kv, "=")
			fmt.Fprintf(&env, "%s=%s\n", k, shellQuote(v))
		}
		fmt.Fprintf(&env, "_REMOTE_USER=%s\n_CONTAINER_USER=%s\n", shellQuote(b.RemoteUser), shellQuote(b.ContainerUser))
		if err := os.WriteFile(filepath.Join(dst, ".pitlane-feature.env"), []byte(env.String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&df, "COPY features/%s /tmp/pitlane-features/%s\n", name, name)
		fmt.Fprintf(&df, "RUN cd /tmp/pitlane-features/%s && set -a && . ./.pitlane-feature.env"+
			" && _REMOTE_USER_HOME=$(getent passwd \"$_REMOTE_USER\" | cut -d: -f6)"+
			" && _CONTAINER_USER_HOME=$(getent passwd \"$_CONTAINER_USER\" | cut -d: -f6)"+
			" && set +a && chmod +x ./install.sh && echo 'Installing feature %s' && ./install.sh\n", name, f.Ref)
		if len(f.Meta.ContainerEnv) > 0 {
			keys := make([]string, 0, len(f.Meta.ContainerEnv))
			for k := range f.Meta.ContainerEnv {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			df.WriteString("ENV")
			for _, k := range keys {
				fmt.Fprintf(&df, " %s=%s", k, strconv.Quote(f.Meta.ContainerEnv[k]))
			}
			df.WriteString("\n")
		}
	}
	df.WriteString("RUN rm -rf /tmp/pitlane-features\n")
	if b.ImageUser != "" {
		fmt.Fprintf(&df, "USER %s\n", b.ImageUser)
	}
	return os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df.String()), 0o644)
}

func safeFolder(s string) string { return nonWord.ReplaceAllString(s, "_") }

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case fi.IsDir():
			return os.MkdirAll(target, 0o755)
		case fi.Mode().IsRegular():
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, in); err != nil {
				out.Close()
				return err
			}
			return out.Close()
		}
		return nil
	})
}

// UpdateUIDDockerfile is a Dockerfile, built with the build args BASE,
// REMOTE_USER, NEW_UID, NEW_GID and IMAGE_USER, that gives REMOTE_USER the
// host user's uid and gid (so files in a bind-mounted source belong to
// the same user on both sides) and chowns its home folder. A uid already
// taken by another user is left alone, as are root and matching ids.
const UpdateUIDDockerfile = `ARG BASE
FROM $BASE
ARG REMOTE_USER
ARG NEW_UID
ARG NEW_GID
ARG IMAGE_USER=root
USER root
RUN set -e; \
    u="$REMOTE_USER"; \
    old_uid=$(id -u "$u"); old_gid=$(id -g "$u"); grp=$(id -gn "$u"); \
    home=$(getent passwd "$u" | cut -d: -f6); \
    if [ "$old_uid" = "$NEW_UID" ] && [ "$old_gid" = "$NEW_GID" ]; then exit 0; fi; \
    if [ "$old_uid" = 0 ]; then exit 0; fi; \
    other=$(getent passwd "$NEW_UID" | cut -d: -f1 || true); \
    if [ -n "$other" ] && [ "$other" != "$u" ]; then echo "uid $NEW_UID is taken by $other: keeping $u at $old_uid"; exit 0; fi; \
    ogrp=$(getent group "$NEW_GID" | cut -d: -f1 || true); \
    if [ -z "$ogrp" ]; then \
      sed -i -e "s/^$grp:\([^:]*\):$old_gid:/$grp:\1:$NEW_GID:/" /etc/group; \
    fi; \
    sed -i -e "s/^$u:\([^:]*\):$old_uid:$old_gid:/$u:\1:$NEW_UID:$NEW_GID:/" /etc/passwd; \
    if [ -d "$home" ]; then chown -R "$NEW_UID:$NEW_GID" "$home"; fi
USER $IMAGE_USER
`
