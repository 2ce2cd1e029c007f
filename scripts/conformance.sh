#!/usr/bin/env bash
# conformance.sh compares Pitlane with the Dev Containers reference CLI.
#
# For every fixture folder under internal/devcontainer/testdata/conformance
# (or the folders given as arguments) it runs `devcontainer up` and
# `pitlane create` on two copies of the folder, then looks inside both
# containers the same way: the user and its ids, the working folder, the
# environment of exec and of a login shell, the mount points, and the
# marker files the fixture's hooks and features write (in the order they
# were written). It prints each difference and "N of M fixtures match".
#
# Environment: PITLANE_BIN (default: build ./cmd/pitlane), DEVCONTAINER_BIN
# (default: install @devcontainers/cli@$REFERENCE_VERSION with npm into a
# scratch folder), KEEP=1 keeps the scratch folder.
#
# Compose fixtures need a Compose v2 binary for the reference CLI: it is
# built from the Go module proxy (the version in go.mod) into a scratch
# DOCKER_CONFIG's cli-plugins folder, used by this script alone.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
REFERENCE_VERSION=${REFERENCE_VERSION:-0.89.0}
work=$(mktemp -d "${TMPDIR:-/tmp}/pitlane-conformance.XXXXXX")
export PITLANE_INSTANCE="conformance-$$"
export XDG_DATA_HOME="$work/xdg-data" XDG_CONFIG_HOME="$work/xdg-config" DO_NOT_TRACK=1

# What exists before the run is never removed: only images and volumes
# that appear during it (the reference CLI names its images vsc-*, or
# PROJECT-SERVICE for Compose services of a PROJECT named *_devcontainer; the
# fixtures name their volumes conformance-*).
images_before=$(docker images --format '{{.Repository}}:{{.Tag}}' | sort -u)
volumes_before=$(docker volume ls -q | sort -u)
built=()
projects=()

cleanup() {
	for c in $(docker ps -aq --filter "label=dev.pitlane.instance=$PITLANE_INSTANCE") \
		$(docker ps -aq --filter "label=conformance.run=$$"); do
		docker rm -f "$c" >/dev/null 2>&1 || true
	done
	for img in $(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^(vsc-|pitlane-conf-|dev_container_feature_content_temp|[a-z0-9_.-]+_devcontainer-)' | sort -u); do
		grep -qxF "$img" <<<"$images_before" || docker rmi "$img" >/dev/null 2>&1 || true
	done
	for p in "${projects[@]}"; do
		docker compose -p "$p" down -v --rmi local --remove-orphans >/dev/null 2>&1 || true
	done
	for img in "${built[@]}"; do
		docker rmi -f "$img" >/dev/null 2>&1 || true
	done
	for v in $(docker volume ls -q | grep -E '^conformance-' || true); do
		grep -qx "$v" <<<"$volumes_before" || docker volume rm -f "$v" >/dev/null 2>&1 || true
	done
	if [ "${KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

pitlane=${PITLANE_BIN:-}
if [ -z "$pitlane" ]; then
	pitlane="$work/pitlane"
	(cd "$root" && go build -o "$pitlane" ./cmd/pitlane)
fi
devcontainer=${DEVCONTAINER_BIN:-}
if [ -z "$devcontainer" ]; then
	mkdir -p "$work/npm"
	npm install --silent --prefix "$work/npm" "@devcontainers/cli@$REFERENCE_VERSION" >/dev/null
	devcontainer="$work/npm/node_modules/.bin/devcontainer"
fi

# What a user sees inside a container. Variables that differ between any
# two containers (HOSTNAME) or that each tool sets for its own plumbing
# (the reference's REMOTE_CONTAINERS_* and VSCODE_*, Pitlane's PITLANE_*,
# such as the credential socket) are left out; everything else must match.
probe='
volatile="^(HOSTNAME|PWD|OLDPWD|SHLVL|_|TERM|REMOTE_CONTAINERS[A-Z_]*|VSCODE_[A-Z_]*|PITLANE_[A-Z_]*)="
echo "== user"; id -un; id -u; id -g
echo "== folder"; pwd
echo "== exec env"; env | grep -Ev "$volatile" | sort
echo "== login shell env"; bash -lc env | grep -Ev "$volatile" | sort
echo "== mounts"; awk "{print \$5}" /proc/self/mountinfo | grep -Ev "^/(proc|sys|dev)(/|$)|^/etc/(hostname|hosts|resolv.conf)$|^/$" | sort
echo "== markers"; cat /tmp/conformance/markers 2>/dev/null || echo "(none)"
'

# Pitlane runs with a scratch home as well as scratch XDG folders, so the
# run leaves the user's ~/.ssh/config alone.
mkdir -p "$work/home"
pit() { HOME="$work/home" "$pitlane" "$@"; }

if [ $# -gt 0 ]; then fixtures=("$@"); else fixtures=("$root"/internal/devcontainer/testdata/conformance/*/); fi
# The reference CLI runs Compose configs with `docker compose`: a plugin
# built here, under a DOCKER_CONFIG of this run's own. The engine's classic
# builder builds the services (there is no buildx).
for fx in "${fixtures[@]}"; do
	if grep -qs dockerComposeFile "${fx%/}/.devcontainer/devcontainer.json" "${fx%/}/.devcontainer.json"; then
		export DOCKER_CONFIG="$work/docker-config" DOCKER_BUILDKIT=0
		mkdir -p "$DOCKER_CONFIG/cli-plugins"
		compose_version=$(cd "$root" && go list -m -f '{{.Version}}' github.com/docker/compose/v2)
		# `go install pkg@version` refuses Compose's go.mod (it has exclude
		# directives): build the module's source as a main module instead.
		compose_src=$(cd "$root" && go mod download -json "github.com/docker/compose/v2@$compose_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		cp -r "$compose_src" "$work/compose-src" && chmod -R u+w "$work/compose-src"
		(cd "$work/compose-src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o "$DOCKER_CONFIG/cli-plugins/docker-compose" ./cmd)
		break
	fi
done
total=0 matched=0
report=""
for fx in "${fixtures[@]}"; do
	fx=${fx%/}
	name=$(basename "$fx")
	total=$((total + 1))
	mkdir -p "$work/ref" "$work/pit"
	cp -a "$fx" "$work/ref/$name"
	cp -a "$fx" "$work/pit/$name"
	out="$work/out/$name"
	mkdir -p "$out"
	# A fixture may need an image of its own (say, one carrying metadata).
	if [ -f "$fx/prepare.Dockerfile" ]; then
		DOCKER_BUILDKIT=0 docker build -q -t "conformance/$name:latest" -f "$fx/prepare.Dockerfile" "$fx" >/dev/null 2>&1
		built+=("conformance/$name:latest")
	fi
	ok=1
	if ! "$devcontainer" up --workspace-folder "$work/ref/$name" --id-label "conformance.run=$$" --id-label "conformance.fixture=$name" >"$out/ref-up.log" 2>&1; then
		echo "== reference up failed" >"$out/ref.txt"; tail -5 "$out/ref-up.log" >>"$out/ref.txt"
	else
		"$devcontainer" exec --workspace-folder "$work/ref/$name" --id-label "conformance.run=$$" --id-label "conformance.fixture=$name" \
			sh -c "$probe" >"$out/ref.txt" 2>"$out/ref-exec.log" || true
	fi
	ws="conf-$$-$name"
	if ! pit create "$work/pit/$name" --name "$ws" --trust >"$out/pit-up.log" 2>&1; then
		echo "== pitlane create failed" >"$out/pit.txt"; tail -5 "$out/pit-up.log" >>"$out/pit.txt"
	else
		pit exec "$ws" -- sh -c "$probe" >"$out/pit.txt" 2>"$out/pit-exec.log" || true
	fi
	# Host paths differ only in the parent folder of the copy.
	sed -i "s#$work/ref#<copy>#g" "$out/ref.txt"
	sed -i "s#$work/pit#<copy>#g" "$out/pit.txt"
	# Both sides must have answered every probe: two failures are no match.
	if ! grep -q '^== markers' "$out/ref.txt" || ! grep -q '^== markers' "$out/pit.txt"; then
		echo "FAILED: $name (a probe did not run to the end)"
		for side in ref pit; do echo "    -- $side:"; tail -5 "$out/$side.txt" | sed 's/^/    /'; tail -5 "$out/$side-exec.log" 2>/dev/null | sed 's/^/    /'; done
	elif diff -u --label "reference/$name" --label "pitlane/$name" "$out/ref.txt" "$out/pit.txt" >"$out/diff.txt"; then
		matched=$((matched + 1))
		echo "match:  $name"
	else
		echo "DIFFER: $name"
		sed 's/^/    /' "$out/diff.txt"
	fi
	if [ "${VERBOSE:-}" = 1 ]; then sed 's/^/    /' "$out/ref.txt"; fi
	for p in $(docker ps -a --filter "label=conformance.run=$$" --filter "label=conformance.fixture=$name" --format '{{.Label "com.docker.compose.project"}}' | sort -u); do
		projects+=("$p")
		docker compose -p "$p" down -v --rmi local --remove-orphans >/dev/null 2>&1 || true
	done
	pit delete --force --volumes "$ws" >/dev/null 2>&1 || true
done
echo "$matched of $total fixtures match"
[ "$matched" = "$total" ]
