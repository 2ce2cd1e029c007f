package devcontainer

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCommandForms(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Entry
	}{
		{"string", `"echo hi"`, []Entry{{Argv: []string{"/bin/sh", "-c", "echo hi"}}}},
		{"blank string", `"  "`, nil},
		{"array", `["echo", "a b"]`, []Entry{{Argv: []string{"echo", "a b"}}}},
		{"empty array", `[]`, nil},
		{"object", `{"b": "echo b", "a": ["echo", "a"]}`, []Entry{
			{Name: "a", Argv: []string{"echo", "a"}},
			{Name: "b", Argv: []string{"/bin/sh", "-c", "echo b"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c Command
			if err := json.Unmarshal([]byte(tc.src), &c); err != nil {
				t.Fatal(err)
			}
			if got := c.Entries(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Entries = %q, want %q", got, tc.want)
			}
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			var back Command
			if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back.Entries(), tc.want) {
				t.Errorf("round trip through %s = %q, %v", b, back.Entries(), err)
			}
		})
	}
	for _, bad := range []string{`1`, `{"a": {"b": "c"}}`, `{"a": 1}`, `[1]`} {
		var c Command
		if err := json.Unmarshal([]byte(bad), &c); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestSubstituteContainerEnv(t *testing.T) {
	host := Vars{LocalWorkspaceFolder: "/src/app", ContainerWorkspaceFolder: "/workspaces/app",
		LookupEnv: func(string) (string, bool) { return "", false }}
	cont := Vars{ContainerEnv: map[string]string{"PATH": "/bin", "EMPTY": ""}, ContainerOnly: true}
	tests := []struct{ in, afterHost, afterContainer string }{
		{"${containerEnv:PATH}:/x", "${containerEnv:PATH}:/x", "/bin:/x"},
		{"${containerEnv:NOPE:dflt}", "${containerEnv:NOPE:dflt}", "dflt"},
		{"${containerEnv:NOPE}", "${containerEnv:NOPE}", ""},
		{"${containerEnv:EMPTY:dflt}", "${containerEnv:EMPTY:dflt}", ""},
		{"${containerEnv}", "${containerEnv}", "${containerEnv}"},
		{"${localWorkspaceFolder}|${containerEnv:PATH}", "/src/app|${containerEnv:PATH}", "/src/app|/bin"},
		{"${localEnv:A:b:c}", "b:c", "b:c"},
		{"$${x}", "$${x}", "$${x}"},
	}
	for _, tc := range tests {
		h := host.Substitute(tc.in)
		if h != tc.afterHost {
			t.Errorf("host pass of %q = %q, want %q", tc.in, h, tc.afterHost)
		}
		if c := cont.Substitute(h); c != tc.afterContainer {
			t.Errorf("container pass of %q = %q, want %q", h, c, tc.afterContainer)
		}
	}
	// The container pass leaves host references alone.
	if got := cont.Substitute("${localWorkspaceFolder}"); got != "${localWorkspaceFolder}" {
		t.Errorf("container pass changed a host variable: %q", got)
	}
}

func TestSubstituteConfigEveryString(t *testing.T) {
	cfg, err := Parse("x", []byte(`{
		"image": "img-${localWorkspaceFolderBasename}",
		"mounts": ["source=${localWorkspaceFolder}/cache,target=/c,type=bind", {"type":"volume","source":"v-${devcontainerId}","target":"/v"}],
		"runArgs": ["--label", "id=${devcontainerId}"],
		"postCreateCommand": {"a": "echo ${containerWorkspaceFolder}"},
		"customizations": {"vscode": {"settings": {"x": "${localWorkspaceFolder}"}}},
	}`))
	if err != nil {
		t.Fatal(err)
	}
	v := Vars{LocalWorkspaceFolder: "/s/app", ContainerWorkspaceFolder: "/w/app", DevcontainerID: "ID"}
	out, err := v.SubstituteConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	for _, want := range []string{`"img-app"`, `source=/s/app/cache`, `"v-ID"`, `"id=ID"`, `echo /w/app`, `"x":"/s/app"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("resolved config lacks %s: %s", want, b)
		}
	}
}

func TestMerge(t *testing.T) {
	yes, no := true, false
	meta, err := ParseMetadata(`[
		{"id": "base", "remoteUser": "base", "containerEnv": {"A": "1", "B": "1"}, "capAdd": ["SYS_PTRACE"], "init": true,
		 "mounts": ["type=volume,source=one,target=/m"], "onCreateCommand": "base-on-create", "postStartCommand": "base-start",
		 "forwardPorts": [3000], "portsAttributes": {"3000": {"label": "a"}}, "hostRequirements": {"cpus": 4, "memory": "8gb"},
		 "customizations": {"vscode": {"extensions": ["a"]}}, "entrypoint": "/usr/local/bin/start"},
		{"id": "feat", "containerEnv": {"B": "2"}, "capAdd": ["SYS_PTRACE", "NET_ADMIN"], "privileged": false,
		 "onCreateCommand": ["feat-on-create"], "updateRemoteUserUID": false}
	]`)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{
		Image: "img", RemoteUser: "me", ContainerEnv: map[string]string{"C": "3"}, Init: &no, Privileged: &yes,
		Mounts:          []Mount{{Type: "volume", Source: "two", Target: "/m"}, {Spec: "type=bind,source=/x,target=/x"}},
		OnCreateCommand: &Command{Shell: "own-on-create"}, ForwardPorts: []json.RawMessage{json.RawMessage(`3000`), json.RawMessage(`8080`)},
		PortsAttributes:     map[string]json.RawMessage{"3000": json.RawMessage(`{"label":"b"}`)},
		HostRequirements:    &HostRequirements{CPUs: 2, Memory: "16gb"},
		Customizations:      map[string]json.RawMessage{"vscode": json.RawMessage(`{"extensions":["b"]}`)},
		UpdateRemoteUserUID: &yes,
	}
	got := Merge(cfg, meta)
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}
	check("remoteUser", got.RemoteUser, "me")
	check("containerEnv", got.ContainerEnv, map[string]string{"A": "1", "B": "2", "C": "3"})
	check("capAdd", got.CapAdd, []string{"SYS_PTRACE", "NET_ADMIN"})
	check("init", *got.Init, true)
	check("privileged", *got.Privileged, true)
	check("updateRemoteUserUID", *got.UpdateRemoteUserUID, true)
	check("mounts", got.Mounts, []Mount{{Type: "volume", Source: "two", Target: "/m"}, {Spec: "type=bind,source=/x,target=/x"}})
	check("ports", got.AllPorts(), []int{3000, 8080})
	check("portsAttributes", string(got.PortsAttributes["3000"]), `{"label":"b"}`)
	check("hostRequirements", *got.HostRequirements, HostRequirements{CPUs: 4, Memory: "16gb"})
	check("entrypoints", got.Entrypoints, []string{"/usr/local/bin/start"})
	check("customizations", len(got.MergedCustomizations["vscode"]), 2)
	var order []string
	for _, h := range got.Hooks(PhaseOnCreate) {
		order = append(order, h.Origin+":"+strings.Join(h.Command.Entries()[0].Argv, " "))
	}
	check("onCreate order", order, []string{"base:/bin/sh -c base-on-create", "feat:feat-on-create", "devcontainer.json:/bin/sh -c own-on-create"})
	check("postStart", len(got.Hooks(PhasePostStart)), 1)
	check("postCreate", len(got.Hooks(PhasePostCreate)), 0)
	// The input is not changed.
	check("input env", cfg.ContainerEnv, map[string]string{"C": "3"})

	// Without metadata, a merged config runs the config's own commands.
	plain := Merge(&Config{PostCreateCommand: &Command{Shell: "x"}, RemoteUser: "u"}, nil)
	check("plain postCreate", len(plain.Hooks(PhasePostCreate)), 1)
	check("plain remoteUser", plain.RemoteUser, "u")
	// A single metadata object is accepted too.
	one, err := ParseMetadata(`{"remoteUser": "x"}`)
	check("single object", err == nil && len(one) == 1 && one[0].RemoteUser == "x", true)
	if _, err := ParseMetadata(`[{`); err == nil {
		t.Error("broken metadata gave no error")
	}
}

func TestParseRunArgs(t *testing.T) {
	r, err := ParseRunArgs([]string{"--cap-add=SYS_PTRACE", "--cap-add", "NET_ADMIN", "--security-opt", "seccomp=unconfined",
		"-e", "A=1", "--env=B=2", "--label", "x=y", "-l", "z", "--network=host", "--privileged", "--init",
		"--add-host", "h:127.0.0.1", "--device=/dev/fuse", "--shm-size", "1g"})
	if err != nil {
		t.Fatal(err)
	}
	want := &RunArgs{CapAdd: []string{"SYS_PTRACE", "NET_ADMIN"}, SecurityOpt: []string{"seccomp=unconfined"},
		Env: []string{"A=1", "B=2"}, Labels: []string{"x=y", "z"}, Network: "host", Privileged: true, Init: true,
		AddHost: []string{"h:127.0.0.1"}, Devices: []string{"/dev/fuse"}, ShmSize: 1 << 30}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("ParseRunArgs = %+v\nwant %+v", r, want)
	}
	for _, tc := range []struct {
		args    []string
		mention string
	}{
		{[]string{"--memory=2g"}, "--memory"},
		{[]string{"-v", "/a:/b"}, "-v"},
		{[]string{"--cap-add"}, "cap-add"},
		{[]string{"image-name"}, "image-name"},
		{[]string{"--shm-size=lots"}, "lots"},
		{[]string{"-p", "8080:80"}, "-p"},
	} {
		_, err := ParseRunArgs(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.mention) || !strings.Contains(err.Error(), "runArgs") {
			t.Errorf("ParseRunArgs(%q) = %v, want an error naming %s", tc.args, err, tc.mention)
		}
	}
	bo, err := ParseBuildOptions([]string{"--build-arg", "A=1", "--network=host", "--no-cache", "--label=l=v"})
	if err != nil || bo.Args["A"] != "1" || bo.Network != "host" || !bo.NoCache || bo.Labels["l"] != "v" {
		t.Errorf("ParseBuildOptions = %+v, %v", bo, err)
	}
	if _, err := ParseBuildOptions([]string{"--squash"}); err == nil || !strings.Contains(err.Error(), "--squash") {
		t.Errorf("unsupported build option: %v", err)
	}
}

func TestMountForms(t *testing.T) {
	cfg, err := Parse("x", []byte(`{"mounts": ["source=a,target=/a,type=volume", {"type": "bind", "source": "/b", "target": "/b"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Mounts) != 2 || cfg.Mounts[0].TargetPath() != "/a" || cfg.Mounts[1].TargetPath() != "/b" || cfg.Mounts[1].Type != "bind" {
		t.Errorf("mounts = %+v", cfg.Mounts)
	}
	if _, err := Parse("x", []byte("{\n\"mounts\": [42]\n}")); err == nil || !strings.Contains(err.Error(), "mount") {
		t.Errorf("a numeric mount: %v", err)
	}
}

func TestOptionEnvName(t *testing.T) {
	for in, want := range map[string]string{"version": "VERSION", "installZsh": "INSTALLZSH", "my-option": "MY_OPTION", "1st.opt": "_ST_OPT", "__x": "_X"} {
		if got := OptionEnvName(in); got != want {
			t.Errorf("OptionEnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

func feature(ref, id string, dependsOn []string, after ...string) *Feature {
	f := &Feature{Ref: ref, Meta: &Config{ID: id}, InstallsAfter: after}
	for _, d := range dependsOn {
		if f.DependsOn == nil {
			f.DependsOn = map[string]json.RawMessage{}
		}
		f.DependsOn[d] = json.RawMessage(`{}`)
	}
	return f
}

func TestOrderFeatures(t *testing.T) {
	tests := []struct {
		name     string
		fs       []*Feature
		override []string
		want     []string
		err      string
	}{
		{"alphabetical", []*Feature{feature("./c", "c", nil), feature("./a", "a", nil), feature("./b", "b", nil)}, nil, []string{"./a", "./b", "./c"}, ""},
		{"dependsOn", []*Feature{feature("./a", "a", []string{"./c"}), feature("./c", "c", nil)}, nil, []string{"./c", "./a"}, ""},
		{"dependsOn by id", []*Feature{feature("./a", "a", []string{"c"}), feature("./c", "c", nil)}, nil, []string{"./c", "./a"}, ""},
		{"installsAfter", []*Feature{feature("./a", "a", nil, "b"), feature("./b", "b", nil)}, nil, []string{"./b", "./a"}, ""},
		{"installsAfter absent is ignored", []*Feature{feature("./a", "a", nil, "ghcr.io/x/y/zzz")}, nil, []string{"./a"}, ""},
		{"override first", []*Feature{feature("./a", "a", nil), feature("./b", "b", nil), feature("./c", "c", nil)}, []string{"./c", "./b"}, []string{"./c", "./b", "./a"}, ""},
		{"override cannot break dependsOn", []*Feature{feature("./a", "a", nil), feature("./b", "b", []string{"./a"})}, []string{"./b"}, []string{"./a", "./b"}, ""},
		{"missing dependency", []*Feature{feature("./a", "a", []string{"./zz"})}, nil, nil, "does not list"},
		{"cycle", []*Feature{feature("./a", "a", []string{"./b"}), feature("./b", "b", nil, "a"), feature("./c", "c", nil)}, nil, nil, "cycle"},
		{"unknown override", []*Feature{feature("./a", "a", nil)}, []string{"./q"}, nil, "./q"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OrderFeatures(tc.fs, tc.override)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var refs []string
			for _, f := range got {
				refs = append(refs, f.Ref)
			}
			if !reflect.DeepEqual(refs, tc.want) {
				t.Errorf("order = %q, want %q", refs, tc.want)
			}
		})
	}
}

func TestLoadFeatures(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(s), 0o755)
	}
	write("greet/devcontainer-feature.json", `{
		// comments are fine here too
		"id": "greet", "version": "1.2.3",
		"options": {"greeting": {"type": "string", "default": "hello"}, "loud": {"type": "boolean", "default": false}, "my-size": {"type": "string", "default": "1"}},
		"containerEnv": {"GREETED": "yes"}, "postCreateCommand": "echo hi",
	}`)
	write("greet/install.sh", "#!/bin/sh\n")
	cfg := &Config{Features: map[string]json.RawMessage{"./greet": json.RawMessage(`{"loud": true, "extra": "x y"}`)}}
	fs, err := LoadFeatures(context.Background(), cfg, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"EXTRA=x y", "GREETING=hello", "LOUD=true", "MY_SIZE=1"}
	if len(fs) != 1 || !reflect.DeepEqual(fs[0].Values, want) || fs[0].Meta.ID != "greet" || fs[0].Meta.ContainerEnv["GREETED"] != "yes" {
		t.Fatalf("features = %+v", fs[0])
	}
	if _, err := LoadFeatures(context.Background(), &Config{Features: map[string]json.RawMessage{"ghcr.io/devcontainers/features/go:1": nil}}, dir, nil); err == nil || !strings.Contains(err.Error(), "registries") {
		t.Errorf("registry feature without a fetcher: %v", err)
	}
	// A registry feature loads from the folder the fetcher gives.
	var asked []string
	fetch := func(_ context.Context, ref string) (string, error) {
		asked = append(asked, ref)
		return filepath.Join(dir, "greet"), nil
	}
	rfs, err := LoadFeatures(context.Background(), &Config{Features: map[string]json.RawMessage{"example.com/f/greet:1": json.RawMessage(`{"greeting": "hey"}`)}}, dir, fetch)
	if err != nil || len(rfs) != 1 || rfs[0].Ref != "example.com/f/greet:1" || rfs[0].Values[0] != "GREETING=hey" || !reflect.DeepEqual(asked, []string{"example.com/f/greet:1"}) {
		t.Fatalf("registry feature: %v %+v %v", err, rfs, asked)
	}
	// dependsOn brings in a registry feature the config does not list,
	// with the options it gives.
	write("needs/devcontainer-feature.json", `{"id": "needs", "dependsOn": {"example.com/f/greet:1": {"greeting": "dep"}}}`)
	write("needs/install.sh", "#!/bin/sh\n")
	asked = nil
	rfs, err = LoadFeatures(context.Background(), &Config{Features: map[string]json.RawMessage{"./needs": nil}}, dir, fetch)
	if err != nil || len(rfs) != 2 || rfs[1].Ref != "example.com/f/greet:1" || rfs[1].Values[0] != "GREETING=dep" {
		t.Fatalf("dependsOn fetch: %v %+v", err, rfs)
	}
	if ordered, err := OrderFeatures(rfs, nil); err != nil || ordered[0].Ref != "example.com/f/greet:1" {
		t.Errorf("order: %v %v", ordered, err)
	}
	if _, err := LoadFeatures(context.Background(), &Config{Features: map[string]json.RawMessage{"greet": nil}}, dir, fetch); err == nil || !strings.Contains(err.Error(), "registry") {
		t.Errorf("bare name: %v", err)
	}
	if _, err := LoadFeatures(context.Background(), &Config{Features: map[string]json.RawMessage{"./nope": nil}}, dir, nil); err == nil {
		t.Error("missing feature folder gave no error")
	}
	ctx := t.TempDir()
	fb := &FeatureBuild{Base: "img", ImageUser: "dev", RemoteUser: "dev", ContainerUser: "root", Features: fs}
	if err := fb.WriteContext(ctx); err != nil {
		t.Fatal(err)
	}
	df, _ := os.ReadFile(filepath.Join(ctx, "Dockerfile"))
	env, _ := os.ReadFile(filepath.Join(ctx, "features", "0-greet", ".pitlane-feature.env"))
	for _, want := range []string{"FROM img\nUSER root\n", "COPY features/0-greet", "ENV GREETED=\"yes\"", "USER dev\n"} {
		if !strings.Contains(string(df), want) {
			t.Errorf("Dockerfile lacks %q:\n%s", want, df)
		}
	}
	if !strings.Contains(string(env), "EXTRA='x y'\n") || !strings.Contains(string(env), "_REMOTE_USER='dev'") {
		t.Errorf("feature env:\n%s", env)
	}
}

// A wrong type is reported just after the offending value, a syntax error
// at the character that breaks it.
func TestParseErrorPositions(t *testing.T) {
	tests := []struct {
		src       string
		line, col int
	}{
		{"{\n  // c\n  \"image\": \"a\",\n  \"runArgs\": \"--init\"\n}", 4, 22},
		{"{\n  \"image\": \"a\",,\n}", 2, 16},
		{"{\n  /* unclosed", 2, 3},
		{"{\n  \"remoteEnv\": {\"A\": 1}\n}", 2, 23},
	}
	for _, tc := range tests {
		_, err := Parse("f.json", []byte(tc.src))
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("%q: err = %v", tc.src, err)
			continue
		}
		if se.Line != tc.line || se.Column != tc.col {
			t.Errorf("%q: at %d:%d (%s), want %d:%d", tc.src, se.Line, se.Column, se.Msg, tc.line, tc.col)
		}
		if !strings.HasPrefix(err.Error(), "f.json:") {
			t.Errorf("error does not start with the file: %v", err)
		}
	}
}

func FuzzSubstitute(f *testing.F) {
	for _, s := range []string{"${localEnv:HOME}", "${containerEnv:PATH:/bin}", "${", "${}", "$${x}}", "${localWorkspaceFolder}${devcontainerId}", "${env:A:b:c}", "plain"} {
		f.Add(s)
	}
	v := Vars{LocalWorkspaceFolder: "/l/app", ContainerWorkspaceFolder: "/c/app", DevcontainerID: "id",
		LookupEnv: func(k string) (string, bool) { return "v", k == "SET" }, ContainerEnv: map[string]string{"P": "p"}}
	f.Fuzz(func(t *testing.T, s string) {
		out := v.Substitute(s)
		if !strings.Contains(s, "${") && out != s {
			t.Fatalf("a string without references changed: %q -> %q", s, out)
		}
		// Substituting again changes nothing: no value here holds a reference.
		if again := v.Substitute(out); again != out && strings.Count(out, "${") == strings.Count(s, "${") {
			t.Fatalf("not stable: %q -> %q -> %q", s, out, again)
		}
		// The container pass never touches host references.
		c := Vars{ContainerEnv: map[string]string{}, ContainerOnly: true}.Substitute(s)
		if !strings.Contains(s, "containerEnv") && c != s {
			t.Fatalf("container pass changed %q to %q", s, c)
		}
	})
}
