package agent

import (
	"bytes"
	"context"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseProcNetTCP(t *testing.T) {
	const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1076 1 0000000095a08613 100 0 0 10 0
   1: 0100007F:2405 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 114144 1 00000000f94ebd8b 100 0 0 10 0
   2: 0100007F:2405 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 114145 1 00000000f94ebd8b 100 0 0 10 0
   3: 0200A8C0:D2F0 0100A8C0:0016 06 00000000:00000000 00:00000000 00000000     0        0 0 3 0000000000000000
`
	const table6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 100 0 0 10 0
`
	got, err := ParseProcNetTCP(strings.NewReader(table))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{3000, 9221}; !slices.Equal(got, want) {
		t.Errorf("tcp: got %v, want %v", got, want)
	}
	got, err = ParseProcNetTCP(strings.NewReader(table6))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{8080}; !slices.Equal(got, want) {
		t.Errorf("tcp6: got %v, want %v", got, want)
	}
	if _, err := ParseProcNetTCP(strings.NewReader("   0: 00000000:XYZ 00000000:0000 0A\n")); err == nil {
		t.Error("a bad local address was accepted")
	}
}

// TestListeningPortsSeesOwnListener reads this machine's real table: a
// port this test listens on must be in it.
func TestListeningPortsSeesOwnListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	got, err := ListeningPorts()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, port) {
		t.Errorf("ListeningPorts() = %v, lacks %d", got, port)
	}
}

// TestDialRelays relays a request to a local echo-upper server and reads
// the answer, which the server sends after the half-close.
func TestDialRelays(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		b, _ := io.ReadAll(c)
		c.Write(bytes.ToUpper(b))
		c.Close()
	}()
	var out bytes.Buffer
	port := l.Addr().(*net.TCPAddr).Port
	if err := Dial(context.Background(), port, strings.NewReader("hello"), &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "HELLO" {
		t.Errorf("got %q, want HELLO", out.String())
	}
	l.Close()
	if err := Dial(context.Background(), port, strings.NewReader(""), io.Discard); err == nil || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Errorf("dialing a closed port: %v", err)
	}
}
