//go:build !unix

package sshconfig

import "os"

// lockFile is a no-op where flock is missing; the optimistic re-read in
// editUserConfig still catches concurrent edits.
func lockFile(string) (func(), error) { return func() {}, nil }

func fileOwner(os.FileInfo) (uid, gid int) { return -1, -1 }
