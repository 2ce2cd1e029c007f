package devcontainer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	units "github.com/docker/go-units"
)

// MetadataLabel is the image label in which images built for dev
// containers record their configuration (and that of their features).
const MetadataLabel = "devcontainer.metadata"

// ParseMetadata reads the value of an image's devcontainer.metadata label:
// a JSON array of config entries (or, in older images, one object).
func ParseMetadata(label string) ([]*Config, error) {
	label = strings.TrimSpace(label)
	if label == "" {
		return nil, nil
	}
	var list []*Config
	if strings.HasPrefix(label, "{") {
		var one Config
		if err := json.Unmarshal([]byte(label), &one); err != nil {
			return nil, fmt.Errorf("the image label %s is not valid: %w", MetadataLabel, err)
		}
		return []*Config{&one}, nil
	}
	if err := json.Unmarshal([]byte(label), &list); err != nil {
		return nil, fmt.Errorf("the image label %s is not valid: %w", MetadataLabel, err)
	}
	out := list[:0]
	for _, c := range list {
		if c != nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// MetadataEntry returns the part of cfg that goes into image metadata (the
// properties the specification lets images carry).
func MetadataEntry(cfg *Config) *Config {
	return &Config{
		ID: cfg.ID, Entrypoint: cfg.Entrypoint,
		ContainerEnv: cfg.ContainerEnv, RemoteEnv: cfg.RemoteEnv,
		ContainerUser: cfg.ContainerUser, RemoteUser: cfg.RemoteUser,
		UpdateRemoteUserUID: cfg.UpdateRemoteUserUID, UserEnvProbe: cfg.UserEnvProbe,
		Mounts: cfg.Mounts, Privileged: cfg.Privileged, CapAdd: cfg.CapAdd, SecurityOpt: cfg.SecurityOpt,
		Init: cfg.Init, OverrideCommand: cfg.OverrideCommand, ShutdownAction: cfg.ShutdownAction,
		ForwardPorts: cfg.ForwardPorts, PortsAttributes: cfg.PortsAttributes, OtherPortsAttributes: cfg.OtherPortsAttributes,
		Customizations: cfg.Customizations, HostRequirements: cfg.HostRequirements,
		OnCreateCommand: cfg.OnCreateCommand, UpdateContentCommand: cfg.UpdateContentCommand,
		PostCreateCommand: cfg.PostCreateCommand, PostStartCommand: cfg.PostStartCommand,
		PostAttachCommand: cfg.PostAttachCommand, WaitFor: cfg.WaitFor,
	}
}

// Merge returns cfg with the entries of an image's metadata merged under it,
// following the specification: cfg counts as the last entry; booleans
// (init, privileged) are ORed; capAdd, securityOpt and forwardPorts are
// unions; mounts are collected, the last one for a target winning;
// containerEnv, remoteEnv and portsAttributes merge per key, last wins;
// single values (users, userEnvProbe, overrideCommand, waitFor, ...) take
// the last one set; hostRequirements take the maximum; lifecycle commands
// are all kept, in order, to run one after the other. Properties that only
// a devcontainer.json has (image, build, workspaceFolder, runArgs, ...)
// come from cfg.
func Merge(cfg *Config, metadata []*Config) *Config {
	out := *cfg
	own := *cfg
	entries := append(append([]*Config{}, metadata...), &own)

	out.ContainerEnv, out.RemoteEnv, out.PortsAttributes = nil, nil, nil
	out.CapAdd, out.SecurityOpt, out.ForwardPorts, out.Mounts = nil, nil, nil, nil
	out.Init, out.Privileged = nil, nil
	out.OnCreateCommands, out.UpdateContentCommands, out.PostCreateCommands = []Hook{}, []Hook{}, []Hook{}
	out.PostStartCommands, out.PostAttachCommands = []Hook{}, []Hook{}
	out.Entrypoints, out.MergedCustomizations = nil, nil
	var mounts []Mount
	seenPort := map[string]bool{}
	for i, e := range entries {
		origin := e.ID
		if i == len(entries)-1 {
			origin = "devcontainer.json"
		} else if origin == "" {
			origin = "image metadata"
		}
		out.Init = orBool(out.Init, e.Init)
		out.Privileged = orBool(out.Privileged, e.Privileged)
		out.CapAdd = union(out.CapAdd, e.CapAdd)
		out.SecurityOpt = union(out.SecurityOpt, e.SecurityOpt)
		for _, p := range e.ForwardPorts {
			k := string(bytes.TrimSpace(p))
			if !seenPort[k] {
				seenPort[k] = true
				out.ForwardPorts = append(out.ForwardPorts, p)
			}
		}
		mounts = append(mounts, e.Mounts...)
		out.ContainerEnv = mergeMap(out.ContainerEnv, e.ContainerEnv)
		out.RemoteEnv = mergeMap(out.RemoteEnv, e.RemoteEnv)
		out.PortsAttributes = mergeMap(out.PortsAttributes, e.PortsAttributes)
		if e.Entrypoint != "" {
			out.Entrypoints = append(out.Entrypoints, e.Entrypoint)
		}
		for tool, v := range e.Customizations {
			if out.MergedCustomizations == nil {
				out.MergedCustomizations = map[string][]json.RawMessage{}
			}
			out.MergedCustomizations[tool] = append(out.MergedCustomizations[tool], v)
		}
		if i < len(entries)-1 {
			// Single values: the last entry that sets one wins; cfg's own
			// values are already in out and are re-applied below.
			setStr(&out.ContainerUser, e.ContainerUser)
			setStr(&out.RemoteUser, e.RemoteUser)
			setStr(&out.UserEnvProbe, e.UserEnvProbe)
			setStr(&out.ShutdownAction, e.ShutdownAction)
			setStr(&out.WaitFor, e.WaitFor)
			setBool(&out.OverrideCommand, e.OverrideCommand)
			setBool(&out.UpdateRemoteUserUID, e.UpdateRemoteUserUID)
			if len(e.OtherPortsAttributes) > 0 {
				out.OtherPortsAttributes = e.OtherPortsAttributes
			}
		}
		out.HostRequirements = maxRequirements(out.HostRequirements, e.HostRequirements)
		addHook := func(list *[]Hook, c *Command) {
			if !c.Empty() {
				*list = append(*list, Hook{Origin: origin, Command: c})
			}
		}
		addHook(&out.OnCreateCommands, e.OnCreateCommand)
		addHook(&out.UpdateContentCommands, e.UpdateContentCommand)
		addHook(&out.PostCreateCommands, e.PostCreateCommand)
		addHook(&out.PostStartCommands, e.PostStartCommand)
		addHook(&out.PostAttachCommands, e.PostAttachCommand)
	}
	setStr(&out.ContainerUser, own.ContainerUser)
	setStr(&out.RemoteUser, own.RemoteUser)
	setStr(&out.UserEnvProbe, own.UserEnvProbe)
	setStr(&out.ShutdownAction, own.ShutdownAction)
	setStr(&out.WaitFor, own.WaitFor)
	setBool(&out.OverrideCommand, own.OverrideCommand)
	setBool(&out.UpdateRemoteUserUID, own.UpdateRemoteUserUID)
	if len(own.OtherPortsAttributes) > 0 {
		out.OtherPortsAttributes = own.OtherPortsAttributes
	}
	out.Mounts = lastMountPerTarget(mounts)
	return &out
}

func orBool(a, b *bool) *bool {
	if b == nil {
		return a
	}
	v := *b || (a != nil && *a)
	return &v
}

func setStr(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

func setBool(dst **bool, v *bool) {
	if v != nil {
		*dst = v
	}
}

func union(a, b []string) []string {
	for _, s := range b {
		found := false
		for _, x := range a {
			if x == s {
				found = true
				break
			}
		}
		if !found {
			a = append(a, s)
		}
	}
	return a
}

func mergeMap[V any](dst, src map[string]V) map[string]V {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]V, len(src))
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// lastMountPerTarget keeps, for each target, the last mount naming it, in
// the order of those last mounts.
func lastMountPerTarget(ms []Mount) []Mount {
	seen := map[string]bool{}
	var rev []Mount
	for i := len(ms) - 1; i >= 0; i-- {
		t := ms[i].TargetPath()
		if t != "" && seen[t] {
			continue
		}
		seen[t] = true
		rev = append(rev, ms[i])
	}
	out := make([]Mount, 0, len(rev))
	for i := len(rev) - 1; i >= 0; i-- {
		out = append(out, rev[i])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func maxRequirements(a, b *HostRequirements) *HostRequirements {
	if b == nil {
		return a
	}
	if a == nil {
		c := *b
		return &c
	}
	out := *a
	if b.CPUs > out.CPUs {
		out.CPUs = b.CPUs
	}
	if Bytes(b.Memory) > Bytes(out.Memory) {
		out.Memory = b.Memory
	}
	if Bytes(b.Storage) > Bytes(out.Storage) {
		out.Storage = b.Storage
	}
	if len(b.GPU) > 0 {
		out.GPU = b.GPU
	}
	return &out
}

// Bytes parses a size such as "4gb" or "512mb" (binary units, as the
// specification's examples mean them); 0 when it cannot.
func Bytes(s string) int64 {
	if s == "" {
		return 0
	}
	n, err := units.RAMInBytes(s)
	if err != nil {
		return 0
	}
	return n
}
