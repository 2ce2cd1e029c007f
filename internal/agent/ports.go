package agent

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// procNetFiles are the kernel's tables of TCP sockets of the network
// namespace the agent runs in, which is the container's.
var procNetFiles = []string{"/proc/net/tcp", "/proc/net/tcp6"}

// ListeningPorts returns the TCP ports that processes in the container
// listen on, sorted, each once.
func ListeningPorts() ([]int, error) {
	var all []int
	read := 0
	for _, path := range procNetFiles {
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // no IPv6 in this kernel
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read the container's TCP sockets: %w", err)
		}
		ports, err := ParseProcNetTCP(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		all = append(all, ports...)
		read++
	}
	if read == 0 {
		return nil, errors.New("cannot read the container's TCP sockets: /proc/net/tcp is missing (is /proc mounted?)")
	}
	slices.Sort(all)
	return slices.Compact(all), nil
}

// tcpListen is the state column of a listening socket ("0A", TCP_LISTEN).
const tcpListen = "0A"

// ParseProcNetTCP returns the local ports of the listening sockets in a
// /proc/net/tcp or /proc/net/tcp6 table, in table order.
func ParseProcNetTCP(r io.Reader) ([]int, error) {
	var ports []int
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if first {
			first = false
			if len(fields) > 0 && fields[0] == "sl" {
				continue
			}
		}
		if len(fields) < 4 {
			continue
		}
		if fields[3] != tcpListen {
			continue
		}
		_, portHex, ok := strings.Cut(fields[1], ":")
		if !ok || len(portHex) != 4 {
			return nil, fmt.Errorf("unexpected local address %q", fields[1])
		}
		b, err := hex.DecodeString(portHex)
		if err != nil {
			return nil, fmt.Errorf("unexpected local address %q: %w", fields[1], err)
		}
		if p := int(b[0])<<8 | int(b[1]); p != 0 {
			ports = append(ports, p)
		}
	}
	return ports, sc.Err()
}

// Dial connects to a TCP port of the container (on its loopback
// addresses, where a server listening on any address answers too) and
// relays it to in and out until the port's side ends the connection. The
// end of in is passed on as a half-close.
func Dial(ctx context.Context, port int, in io.Reader, out io.Writer) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("%d is not a port", port)
	}
	var d net.Dialer
	d.Timeout = 10 * time.Second
	var c net.Conn
	var err error
	for _, host := range []string{"127.0.0.1", "::1"} {
		if c, err = d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port))); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("nothing answers on port %d in the container: %w", port, err)
	}
	defer c.Close()
	go func() {
		io.Copy(c, in)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	_, err = io.Copy(out, c)
	return err
}
