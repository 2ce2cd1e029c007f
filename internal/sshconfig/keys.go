package sshconfig

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// Keys are Pitlane's per-install SSH keys: the client key the SSH client
// logs in with and the host key every workspace's agent presents.
type Keys struct {
	// ClientKeyFile is the private client key (IdentityFile), mode 0600.
	ClientKeyFile string
	// KnownHostsFile pins the host key for every *.pitlane host.
	KnownHostsFile string
	// HostKey is the private host key in OpenSSH PEM form.
	HostKey []byte
	// AuthorizedKey is the client's public key in authorized_keys form.
	AuthorizedKey []byte
	// Client signs for the client key (for Pitlane's own SSH client).
	Client gossh.Signer
	// HostPublic is the host's public key (for Pitlane's own SSH client).
	HostPublic gossh.PublicKey
}

// EnsureKeys loads the keys under dir/ssh, generating any that are missing.
// Concurrent callers agree on one key: each new key is published with a
// hard link, which fails if another process got there first.
func EnsureKeys(dir string) (*Keys, error) {
	sshDir := filepath.Join(dir, "ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", sshDir, err)
	}
	client, _, err := loadOrCreateKey(filepath.Join(sshDir, "id_ed25519"))
	if err != nil {
		return nil, err
	}
	host, hostPEM, err := loadOrCreateKey(filepath.Join(sshDir, "host_ed25519"))
	if err != nil {
		return nil, err
	}
	k := &Keys{
		ClientKeyFile:  filepath.Join(sshDir, "id_ed25519"),
		KnownHostsFile: filepath.Join(sshDir, "known_hosts"),
		HostKey:        hostPEM,
		AuthorizedKey:  gossh.MarshalAuthorizedKey(client.PublicKey()),
		Client:         client,
		HostPublic:     host.PublicKey(),
	}
	if err := writeIfChanged(filepath.Join(sshDir, "id_ed25519.pub"), k.AuthorizedKey, 0o644); err != nil {
		return nil, err
	}
	known := append([]byte("*."+Domain+" "), gossh.MarshalAuthorizedKey(host.PublicKey())...)
	if err := writeIfChanged(k.KnownHostsFile, known, 0o644); err != nil {
		return nil, err
	}
	return k, nil
}

func loadOrCreateKey(path string) (gossh.Signer, []byte, error) {
	for attempt := 0; attempt < 2; attempt++ {
		data, err := os.ReadFile(path)
		if err == nil {
			if st, err := os.Stat(path); err == nil && st.Mode().Perm() != 0o600 {
				os.Chmod(path, 0o600)
			}
			s, err := gossh.ParsePrivateKey(data)
			if err != nil {
				return nil, nil, fmt.Errorf("reading %s: %w; delete it to make Pitlane create a new key", path, err)
			}
			return s, data, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		if err := createKey(path); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, nil, err
		}
	}
	return nil, nil, fmt.Errorf("cannot create %s", path)
}

func createKey(path string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	block, err := gossh.MarshalPrivateKey(priv, "pitlane")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(pem.EncodeToMemory(block)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmp.Name(), path)
}

// writeIfChanged atomically replaces path with data unless it already
// holds exactly that.
func writeIfChanged(path string, data []byte, mode os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return nil
	}
	return writeAtomic(path, data, mode, -1, -1)
}

// writeAtomic writes data to a temporary file beside path and renames it
// over path, so readers see the old or the new file, never a mix.
func writeAtomic(path string, data []byte, mode os.FileMode, uid, gid int) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if uid >= 0 {
		tmp.Chown(uid, gid) // best effort: only root can give files away
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	return nil
}
