package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// InstallDir is where the agent binary lives inside a container. It hangs
// off the root folder because that is the one folder every image has.
const InstallDir = "/.pitlane"

// Path is the agent's path inside a container for a binary with the given
// SHA-256 checksum (hex). A new Pitlane version has a new checksum and so a
// new path, which makes "is the agent up to date" one existence check.
func Path(sum string) string {
	return InstallDir + "/agent-" + sum[:16]
}

// StagePath is where the host copies the binary before it is verified.
// nonce keeps concurrent first connections from sharing (and racing on)
// one staged file.
func StagePath(sum, nonce string) string {
	return "/.pitlane-agent-" + sum[:16] + "-" + nonce + ".part"
}

// FileSum returns the hex SHA-256 checksum of a file.
func FileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Install runs inside the container on a staged copy of the binary: it
// checks that the file at staged has checksum sum, moves it to Path(sum)
// and removes agents of other versions. A copy that does not match is
// removed and reported, so Path(sum) only ever holds a verified binary.
func Install(staged, sum string) error {
	got, err := FileSum(staged)
	if err != nil {
		return fmt.Errorf("reading the staged agent: %w", err)
	}
	if got != sum {
		os.Remove(staged)
		return fmt.Errorf("the agent copied into the container is damaged (checksum %s, want %s); connect again to copy it anew", got, sum)
	}
	if err := os.MkdirAll(InstallDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", InstallDir, err)
	}
	if err := os.Chmod(staged, 0o755); err != nil {
		return err
	}
	dst := Path(sum)
	if err := os.Rename(staged, dst); err != nil {
		return fmt.Errorf("installing the agent: %w", err)
	}
	// The stable link follows the newest install: swap it atomically.
	link := fmt.Sprintf("%s.%d.tmp", StablePath, os.Getpid())
	os.Remove(link)
	if err := os.Symlink(filepath.Base(dst), link); err == nil {
		if err := os.Rename(link, StablePath); err != nil {
			os.Remove(link)
		}
	}
	old, _ := filepath.Glob(filepath.Join(InstallDir, "agent-*"))
	for _, p := range old {
		if p != dst && !strings.HasSuffix(p, ".part") {
			os.Remove(p)
		}
	}
	return nil
}
