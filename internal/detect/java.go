package detect

import (
	"encoding/xml"
	"regexp"
	"strings"
)

// pom is the part of a pom.xml the detector reads.
type pom struct {
	Properties struct {
		Entries []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	} `xml:"properties"`
	Modules      []string `xml:"modules>module"`
	Dependencies []struct {
		GroupID    string `xml:"groupId"`
		ArtifactID string `xml:"artifactId"`
	} `xml:"dependencies>dependency"`
	Plugins []struct {
		ArtifactID    string `xml:"artifactId"`
		Configuration struct {
			Release string `xml:"release"`
			Source  string `xml:"source"`
		} `xml:"configuration"`
	} `xml:"build>plugins>plugin"`
	Parent struct {
		ArtifactID string `xml:"artifactId"`
	} `xml:"parent"`
}

var (
	gradleVersion = []*regexp.Regexp{
		regexp.MustCompile(`JavaLanguageVersion\.of\(\s*"?(\d+)"?\s*\)`),
		regexp.MustCompile(`jvmToolchain\(\s*(\d+)\s*\)`),
		regexp.MustCompile(`(?:source|target)Compatibility\s*=?\s*(?:JavaVersion\.VERSION_)?['"]?(1\.\d+|\d+)`),
		regexp.MustCompile(`options\.release\s*(?:=|\.set\()\s*(\d+)`),
	}
	propRef = regexp.MustCompile(`^\$\{([^}]+)\}$`)
)

// detectJava finds a Maven or Gradle project and the Java release it
// compiles for.
func detectJava(t *tree, dir string) *Stack {
	if rel := join(dir, "pom.xml"); t.exists(rel) {
		return detectMaven(t, dir, rel)
	}
	for _, f := range []string{"build.gradle.kts", "build.gradle", "settings.gradle.kts", "settings.gradle"} {
		if rel := join(dir, f); t.exists(rel) {
			return detectGradle(t, dir, rel)
		}
	}
	return nil
}

func detectMaven(t *tree, dir, rel string) *Stack {
	data, _ := t.read(rel)
	var p pom
	_ = xml.Unmarshal(data, &p)
	s := &Stack{Language: Java, Dir: dir, Evidence: Evidence{File: rel}, covers: len(p.Modules) > 0}
	props := map[string]string{}
	for _, e := range p.Properties.Entries {
		props[e.XMLName.Local] = strings.TrimSpace(e.Value)
	}
	resolve := func(v string) string {
		if m := propRef.FindStringSubmatch(v); m != nil {
			return props[m[1]]
		}
		return v
	}
	for _, key := range []string{"maven.compiler.release", "maven.compiler.source", "java.version", "maven.compiler.target"} {
		if v := resolve(props[key]); v != "" {
			s.Version = &Version{Spec: v, Evidence: find(rel, data, "<"+key+">")}
			break
		}
	}
	if s.Version == nil {
		for _, pl := range p.Plugins {
			if pl.ArtifactID != "maven-compiler-plugin" {
				continue
			}
			if v := resolve(firstNonEmpty(pl.Configuration.Release, pl.Configuration.Source)); v != "" {
				tag := "<release>"
				if pl.Configuration.Release == "" {
					tag = "<source>"
				}
				s.Version = &Version{Spec: v, Evidence: find(rel, data, tag)}
			}
		}
	}
	for _, d := range p.Dependencies {
		s.Deps = append(s.Deps, d.GroupID+":"+d.ArtifactID)
	}
	if p.Parent.ArtifactID != "" {
		s.Deps = append(s.Deps, p.Parent.ArtifactID)
	}
	tool := Tool{Name: "maven", Evidence: Evidence{File: rel}}
	mvn := "mvn"
	if t.exists(join(dir, "mvnw")) && t.exists(join(dir, ".mvn/wrapper/maven-wrapper.properties")) {
		tool.Evidence = Evidence{File: join(dir, ".mvn/wrapper/maven-wrapper.properties")}
		if data, ok := t.read(join(dir, ".mvn/wrapper/maven-wrapper.properties")); ok {
			if m := regexp.MustCompile(`apache-maven-([0-9.]+)-bin`).FindSubmatch(data); m != nil {
				tool.Version = string(m[1])
				tool.Evidence = find(join(dir, ".mvn/wrapper/maven-wrapper.properties"), data, "distributionUrl")
			}
		}
		mvn = "./mvnw"
	}
	s.Tools = []Tool{tool}
	if len(p.Dependencies) > 0 {
		s.Install = &Command{Run: mvn + " -B -q dependency:resolve", Origin: "default", Evidence: Evidence{File: rel}}
	}
	s.Test = testFor(t, dir, &Command{Run: mvn + " -B test", Origin: "default", Evidence: Evidence{File: rel}})
	return s
}

func detectGradle(t *tree, dir, rel string) *Stack {
	s := &Stack{Language: Java, Dir: dir, Evidence: Evidence{File: rel}}
	for _, f := range []string{"build.gradle.kts", "build.gradle"} {
		data, ok := t.read(join(dir, f))
		if !ok {
			continue
		}
		for _, re := range gradleVersion {
			if m := re.FindSubmatch(data); m != nil {
				v := strings.TrimPrefix(string(m[1]), "1.")
				s.Version = &Version{Spec: v, Evidence: find(join(dir, f), data, string(m[0]))}
				break
			}
		}
		if s.Version != nil {
			break
		}
	}
	for _, f := range []string{"settings.gradle.kts", "settings.gradle"} {
		if data, ok := t.read(join(dir, f)); ok && strings.Contains(string(data), "include") {
			s.covers = true
		}
	}
	tool := Tool{Name: "gradle", Evidence: Evidence{File: rel}}
	gradle := "gradle"
	wp := join(dir, "gradle/wrapper/gradle-wrapper.properties")
	if data, ok := t.read(wp); ok {
		if m := regexp.MustCompile(`gradle-([0-9.]+)-(?:bin|all)`).FindSubmatch(data); m != nil {
			tool.Version = string(m[1])
			tool.Evidence = find(wp, data, "distributionUrl")
		}
	}
	if t.exists(join(dir, "gradlew")) {
		// The wrapper downloads Gradle from Gradle's own servers; the
		// generated config installs Gradle itself, so the plain command
		// is used.
		gradle = "gradle"
	}
	s.Tools = []Tool{tool}
	s.Test = testFor(t, dir, &Command{Run: gradle + " test --no-daemon", Origin: "default", Evidence: Evidence{File: rel}})
	return s
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
