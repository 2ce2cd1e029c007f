//go:build unix

package sshconfig

import (
	"os"
	"syscall"
)

// fileOwner returns the owner of a file, to give a replacement the same.
func fileOwner(st os.FileInfo) (uid, gid int) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid), int(sys.Gid)
	}
	return -1, -1
}
