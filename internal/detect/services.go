package detect

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// composeFiles are the Compose file names looked for at the root.
var composeFiles = []string{"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml", "docker-compose.dev.yml", "docker-compose.dev.yaml", "docker-compose.test.yml", "compose.dev.yaml"}

// envExamples are the files that document a project's environment.
var envExamples = []string{".env.example", ".env.sample", ".env.template", ".env.dist", "example.env", ".env.test"}

// serviceImages maps an image's repository name to a service kind.
var serviceImages = map[string]string{
	"postgres": "postgres", "postgis": "postgres", "timescaledb": "postgres",
	"mysql": "mysql", "mariadb": "mysql", "percona": "mysql",
	"redis": "redis", "valkey": "redis", "redis-stack": "redis",
	"mongo": "mongodb", "mongodb": "mongodb",
	"rabbitmq": "rabbitmq", "elasticsearch": "elasticsearch", "opensearch": "elasticsearch",
	"memcached": "memcached",
}

// urlSchemes maps a connection URL's scheme to a service kind.
var urlSchemes = map[string]string{
	"postgres": "postgres", "postgresql": "postgres", "postgis": "postgres",
	"mysql": "mysql", "mariadb": "mysql",
	"redis": "redis", "rediss": "redis",
	"mongodb": "mongodb", "mongodb+srv": "mongodb",
	"amqp": "rabbitmq", "amqps": "rabbitmq",
}

// ComposeService is one service of a Compose file.
type composeFile struct {
	Services map[string]struct {
		Image string    `yaml:"image"`
		Build yaml.Node `yaml:"build"`
		Ports []any     `yaml:"ports"`
	} `yaml:"services"`
}

var envLine = regexp.MustCompile(`^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$`)

// services finds what the project expects beside it: Compose services,
// connection URLs in an example environment file, and Testcontainers
// (which need a Docker engine).
func services(t *tree, r *Report) []Service {
	var out []Service
	add := func(s Service) {
		for i := range out {
			if out[i].Name == s.Name {
				if out[i].URL == "" && s.URL != "" {
					out[i].URL, out[i].Env = s.URL, s.Env
				}
				return
			}
		}
		out = append(out, s)
	}
	for _, f := range composeFiles {
		data, ok := t.read(f)
		if !ok {
			continue
		}
		var cf composeFile
		if yaml.Unmarshal(data, &cf) != nil {
			continue
		}
		for _, name := range sortedKeys(cf.Services) {
			svc := cf.Services[name]
			if svc.Image == "" {
				continue // the project's own image (build:)
			}
			kind := serviceImages[imageRepo(svc.Image)]
			if kind == "" {
				kind = name
			}
			add(Service{Name: kind, Image: svc.Image, Evidence: find(f, data, svc.Image)})
		}
	}
	for _, f := range envExamples {
		data, ok := t.read(f)
		if !ok {
			continue
		}
		for i, line := range strings.Split(string(data), "\n") {
			m := envLine.FindStringSubmatch(strings.TrimSpace(line))
			if m == nil {
				continue
			}
			val := strings.Trim(strings.TrimSpace(m[2]), `"'`)
			ev := Evidence{File: f, Line: i + 1, Text: clip(strings.TrimSpace(line))}
			if u, err := url.Parse(val); err == nil && urlSchemes[u.Scheme] != "" {
				add(Service{Name: urlSchemes[u.Scheme], URL: val, Env: m[1], Evidence: ev})
			}
		}
	}
	for _, s := range r.Stacks {
		for _, d := range s.Deps {
			if strings.Contains(strings.ToLower(d), "testcontainers") {
				add(Service{Name: "docker", Evidence: Evidence{File: s.Evidence.File, Text: d}})
				break
			}
		}
	}
	return out
}

// imageRepo is an image reference's last path element without tag or
// digest: "docker.io/library/postgres:16" is "postgres".
func imageRepo(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	ref, _, _ = strings.Cut(ref, ":")
	return strings.ToLower(ref)
}

// frameworkPorts are the ports frameworks serve on by default, by
// dependency name.
var frameworkPorts = map[string]int{
	"next": 3000, "react-scripts": 3000, "nuxt": 3000, "@nestjs/core": 3000, "express": 3000,
	"vite": 5173, "@sveltejs/kit": 5173, "@angular/core": 4200, "astro": 4321,
	"django": 8000, "fastapi": 8000, "uvicorn": 8000, "flask": 5000, "streamlit": 8501, "jupyterlab": 8888,
	"rails": 3000, "sinatra": 4567,
	"org.springframework.boot:spring-boot-starter-web": 8080, "spring-boot-starter-parent": 8080,
}

var exposeLine = regexp.MustCompile(`(?i)^EXPOSE\s+(.+)$`)

// ports finds the ports the project serves: EXPOSE lines of its
// Dockerfiles, the published ports of its own Compose service, and
// framework defaults.
func ports(t *tree, r *Report) []Port {
	var out []Port
	add := func(p int, ev Evidence) {
		if p <= 0 || p > 65535 {
			return
		}
		for _, o := range out {
			if o.Port == p {
				return
			}
		}
		out = append(out, Port{Port: p, Evidence: ev})
	}
	dirs := []string{"."}
	for _, s := range r.Stacks {
		if !contains(dirs, s.Dir) {
			dirs = append(dirs, s.Dir)
		}
	}
	for _, d := range dirs {
		rel := join(d, "Dockerfile")
		data, ok := t.read(rel)
		if !ok {
			continue
		}
		for i, line := range strings.Split(string(data), "\n") {
			if m := exposeLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				for _, f := range strings.Fields(m[1]) {
					f, _, _ = strings.Cut(f, "/")
					if n, err := strconv.Atoi(f); err == nil {
						add(n, Evidence{File: rel, Line: i + 1, Text: strings.TrimSpace(line)})
					}
				}
			}
		}
	}
	for _, f := range composeFiles {
		data, ok := t.read(f)
		if !ok {
			continue
		}
		var cf composeFile
		if yaml.Unmarshal(data, &cf) != nil {
			continue
		}
		for _, name := range sortedKeys(cf.Services) {
			svc := cf.Services[name]
			if svc.Image != "" && svc.Build.Kind == 0 {
				continue
			}
			for _, p := range svc.Ports {
				spec := ""
				switch v := p.(type) {
				case string:
					spec = v
				case int:
					spec = strconv.Itoa(v)
				case map[string]any:
					if tp, ok := v["target"].(int); ok {
						spec = strconv.Itoa(tp)
					}
				}
				parts := strings.Split(spec, ":")
				last, _, _ := strings.Cut(parts[len(parts)-1], "/")
				if n, err := strconv.Atoi(last); err == nil {
					add(n, find(f, data, spec))
				}
			}
		}
	}
	for _, s := range r.Stacks {
		deps := append([]string{}, s.Deps...)
		sort.Strings(deps)
		for _, d := range deps {
			if p, ok := frameworkPorts[d]; ok {
				add(p, Evidence{File: s.Evidence.File, Text: d + " serves on " + strconv.Itoa(p) + " by default"})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Port < out[j].Port })
	return out
}
