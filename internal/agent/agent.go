// Package agent is the SSH server that runs inside a workspace container.
// `pitlane agent ssh --stdio` serves exactly one SSH connection on its
// standard input and output, so an SSH client reaches the container through
// a Docker exec (ProxyCommand `pitlane ssh --stdio NAME.pitlane`) without an
// sshd in the image and without an open port.
//
// Before the SSH stream starts, the host side sends one line, the Hello,
// with the per-install host key and the client key the server accepts; the
// agent answers with Ready once it is listening. Neither key is written to
// the container's disk or environment.
package agent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Version of the Hello line. The host side and the agent are the same
// binary (the agent is copied in by checksum), so they always agree.
const helloPrefix = "PITLANE-AGENT/1 "

// Ready is what the agent writes on stdout once it serves SSH; everything
// after it is the SSH stream.
const Ready = "PITLANE-AGENT/1 READY\n"

// Hello configures one agent run.
type Hello struct {
	// HostKey is the server's private key in OpenSSH PEM form.
	HostKey []byte `json:"hostKey"`
	// AuthorizedKey is the only client public key accepted, in
	// authorized_keys form ("ssh-ed25519 AAAA...").
	AuthorizedKey []byte `json:"authorizedKey"`
}

// WriteHello sends h as the first line of the agent's input.
func WriteHello(w io.Writer, h Hello) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	line := append([]byte(helloPrefix), b...)
	line = append(line, '\n')
	_, err = w.Write(line)
	return err
}

// ReadHello reads the Hello line from r. Bytes after the line stay in r.
func ReadHello(r *bufio.Reader) (Hello, error) {
	var h Hello
	line, err := r.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			return h, errors.New("the input ended before the configuration line: run the agent through `pitlane ssh --stdio`, not by hand")
		}
		return h, err
	}
	rest, ok := bytes.CutPrefix(line, []byte(helloPrefix))
	if !ok {
		return h, errors.New("the input does not start with the configuration line: run the agent through `pitlane ssh --stdio`, not by hand")
	}
	if err := json.Unmarshal(rest, &h); err != nil {
		return h, fmt.Errorf("reading the configuration line: %w", err)
	}
	if len(h.HostKey) == 0 || len(h.AuthorizedKey) == 0 {
		return h, errors.New("the configuration line lacks the host key or the client key")
	}
	return h, nil
}
