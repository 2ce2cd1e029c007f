package ports

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/devcontainer"
)

func TestFromConfig(t *testing.T) {
	var cfg devcontainer.Config
	err := json.Unmarshal([]byte(`{
		"forwardPorts": [3000, "localhost:5432"],
		"appPort": ["8000:8080", 3000],
		"portsAttributes": {"3000": {"label": "web"}, "8080": {"label": "api", "onAutoForward": "notify"}}
	}`), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := FromConfig(&cfg)
	want := []Port{
		{Number: 3000, Label: "web", Source: SourceForwardPorts},
		{Number: 5432, Source: SourceForwardPorts},
		{Number: 8080, Label: "api", Source: SourceAppPort},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromConfig:\n got %+v\nwant %+v", got, want)
	}
	if FromConfig(nil) != nil {
		t.Error("FromConfig(nil) is not empty")
	}
}

func TestMerge(t *testing.T) {
	configured := []Port{{Number: 8080, Label: "api", Source: SourceForwardPorts}, {Number: 22, Source: SourceAppPort}}
	got := Merge(configured, []int{9229, 8080, 3000, 3000})
	want := []Port{
		{Number: 22, Source: SourceAppPort},
		{Number: 3000, Source: SourceDetected},
		{Number: 8080, Label: "api", Source: SourceForwardPorts},
		{Number: 9229, Source: SourceDetected},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Merge:\n got %+v\nwant %+v", got, want)
	}
	if len(configured) != 2 || configured[0].Number != 8080 {
		t.Errorf("Merge changed its argument: %+v", configured)
	}
}

func TestListen(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := LocalPort(busy)
	if _, _, err := Listen(port, false); err == nil || !strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Errorf("Listen on a busy port without anyPort: %v", err)
	}
	l, moved, err := Listen(port, true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !moved || LocalPort(l) == port || LocalPort(l) == 0 {
		t.Errorf("Listen on a busy port with anyPort: moved=%v port=%d", moved, LocalPort(l))
	}
	if host, _, _ := net.SplitHostPort(l.Addr().String()); host != "127.0.0.1" {
		t.Errorf("listens on %s, want 127.0.0.1 only", l.Addr())
	}
}

// TestForward relays two connections to an upper-casing server, and
// checks that Close ends a connection still open.
func TestForward(t *testing.T) {
	srv, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		for {
			c, err := srv.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					fmt.Fprintln(c, strings.ToUpper(sc.Text()))
				}
			}()
		}
	}()
	l, _, err := Listen(0, false)
	if err != nil {
		t.Fatal(err)
	}
	f := NewForward(l, func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", srv.Addr().String())
	}, nil)
	addr := fmt.Sprintf("127.0.0.1:%d", f.LocalPort())
	for i := range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "hello %d\n", i)
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != fmt.Sprintf("HELLO %d\n", i) {
			t.Errorf("connection %d: %q, %v", i, line, err)
		}
		if i == 0 {
			c.Close()
			continue
		}
		// The second stays open across Close.
		f.Close()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("a relayed connection survived Close: %v", err)
		}
		c.Close()
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("the listener survived Close")
	}
}

// TestForwardDialError reports a failed dial and closes the connection.
func TestForwardDialError(t *testing.T) {
	l, _, err := Listen(0, false)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 1)
	f := NewForward(l, func(context.Context) (net.Conn, error) { return nil, errors.New("nothing answers") }, func(err error) { errs <- err })
	defer f.Close()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", f.LocalPort()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := io.ReadAll(c); len(n) != 0 || err != nil {
		t.Errorf("read %q, %v; want the connection closed", n, err)
	}
	select {
	case err := <-errs:
		if err.Error() != "nothing answers" {
			t.Errorf("onError got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("onError was not called")
	}
}
