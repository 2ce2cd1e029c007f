package agent

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// passwdEntry is what the agent needs to know about the user it runs as.
type passwdEntry struct {
	name, home, shell string
}

// currentUser reads /etc/passwd directly rather than through the C
// library, so the agent behaves the same on glibc, musl and images
// without any libc.
func currentUser() passwdEntry {
	uid := os.Getuid()
	u := lookupUID("/etc/passwd", uid)
	if u.name == "" {
		u.name = os.Getenv("USER")
		if u.name == "" {
			u.name = strconv.Itoa(uid)
		}
	}
	if u.home == "" {
		u.home = os.Getenv("HOME")
		if u.home == "" {
			u.home = "/"
		}
	}
	if u.shell == "" || !isExecutable(u.shell) {
		u.shell = "/bin/sh"
		for _, sh := range []string{"/bin/bash", "/bin/sh"} {
			if isExecutable(sh) {
				u.shell = sh
				break
			}
		}
	}
	return u
}

func lookupUID(file string, uid int) passwdEntry {
	f, err := os.Open(file)
	if err != nil {
		return passwdEntry{}
	}
	defer f.Close()
	want := strconv.Itoa(uid)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 7 && fields[2] == want {
			return passwdEntry{name: fields[0], home: fields[5], shell: fields[6]}
		}
	}
	return passwdEntry{}
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}
