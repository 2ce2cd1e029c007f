package devcontainer

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// RunArgs is the supported subset of "runArgs", the docker run arguments
// a config may add.
type RunArgs struct {
	CapAdd      []string
	SecurityOpt []string
	Env         []string
	Labels      []string
	Network     string
	Privileged  bool
	Init        bool
	AddHost     []string
	Devices     []string
	ShmSize     int64
}

// SupportedRunArgs lists the docker run flags Pitlane accepts in runArgs.
var SupportedRunArgs = []string{
	"--cap-add", "--security-opt", "-e/--env", "-l/--label", "--network/--net",
	"--privileged", "--init", "--add-host", "--device", "--shm-size",
}

// ParseRunArgs reads runArgs with docker run's flag syntax (--flag value,
// --flag=value, -e VALUE). Flags outside SupportedRunArgs, and positional
// arguments, are errors that name the argument: Pitlane never drops part of
// a config silently.
func ParseRunArgs(args []string) (*RunArgs, error) {
	var r RunArgs
	var shm string
	fs := pflag.NewFlagSet("runArgs", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringArrayVar(&r.CapAdd, "cap-add", nil, "")
	fs.StringArrayVar(&r.SecurityOpt, "security-opt", nil, "")
	fs.StringArrayVarP(&r.Env, "env", "e", nil, "")
	fs.StringArrayVarP(&r.Labels, "label", "l", nil, "")
	fs.StringVar(&r.Network, "network", "", "")
	fs.StringVar(&r.Network, "net", "", "")
	fs.BoolVar(&r.Privileged, "privileged", false, "")
	fs.BoolVar(&r.Init, "init", false, "")
	fs.StringArrayVar(&r.AddHost, "add-host", nil, "")
	fs.StringArrayVar(&r.Devices, "device", nil, "")
	fs.StringVar(&shm, "shm-size", "", "")
	if err := fs.Parse(args); err != nil {
		msg := err.Error()
		if strings.HasPrefix(msg, "unknown flag") || strings.HasPrefix(msg, "unknown shorthand flag") {
			msg = strings.Replace(msg, "unknown", "unsupported", 1)
		}
		return nil, fmt.Errorf("runArgs: %s; Pitlane supports %s (use the config's own properties, such as mounts or containerEnv, for the rest)", msg, strings.Join(SupportedRunArgs, ", "))
	}
	if rest := fs.Args(); len(rest) > 0 {
		return nil, fmt.Errorf("runArgs: %q is not a flag; runArgs holds docker run flags only, such as --cap-add=SYS_PTRACE", rest[0])
	}
	if shm != "" {
		n := Bytes(shm)
		if n <= 0 {
			return nil, fmt.Errorf("runArgs: --shm-size %q is not a size (use a number with b, k, m or g)", shm)
		}
		r.ShmSize = n
	}
	for _, e := range r.Env {
		if strings.HasPrefix(e, "=") {
			return nil, fmt.Errorf("runArgs: -e %q has no variable name", e)
		}
	}
	return &r, nil
}

// BuildOptions is the supported subset of build.options, the image
// builder's extra arguments.
type BuildOptions struct {
	Args    map[string]string
	Labels  map[string]string
	Network string
	AddHost []string
	NoCache bool
	Pull    bool
	Target  string
	ShmSize int64
}

// ParseBuildOptions reads build.options with docker build's flag syntax:
// --build-arg, --label, --network, --add-host, --no-cache, --pull,
// --target and --shm-size. Anything else is an error naming the argument.
func ParseBuildOptions(args []string) (*BuildOptions, error) {
	var bargs, labels []string
	var shm string
	o := &BuildOptions{}
	fs := pflag.NewFlagSet("build.options", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringArrayVar(&bargs, "build-arg", nil, "")
	fs.StringArrayVar(&labels, "label", nil, "")
	fs.StringVar(&o.Network, "network", "", "")
	fs.StringArrayVar(&o.AddHost, "add-host", nil, "")
	fs.BoolVar(&o.NoCache, "no-cache", false, "")
	fs.BoolVar(&o.Pull, "pull", false, "")
	fs.StringVar(&o.Target, "target", "", "")
	fs.StringVar(&shm, "shm-size", "", "")
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("build.options: %s; Pitlane supports --build-arg, --label, --network, --add-host, --no-cache, --pull, --target and --shm-size", strings.Replace(err.Error(), "unknown", "unsupported", 1))
	}
	if rest := fs.Args(); len(rest) > 0 {
		return nil, fmt.Errorf("build.options: %q is not a flag; the build context is build.context", rest[0])
	}
	kv := func(list []string) map[string]string {
		if len(list) == 0 {
			return nil
		}
		m := make(map[string]string, len(list))
		for _, s := range list {
			k, v, _ := strings.Cut(s, "=")
			m[k] = v
		}
		return m
	}
	o.Args, o.Labels = kv(bargs), kv(labels)
	if shm != "" {
		if o.ShmSize = Bytes(shm); o.ShmSize <= 0 {
			return nil, fmt.Errorf("build.options: --shm-size %q is not a size", shm)
		}
	}
	return o, nil
}
