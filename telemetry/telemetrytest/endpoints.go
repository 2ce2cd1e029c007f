package telemetrytest

import (
	"net"
	"testing"
)

// RefusedEndpoint returns a metrics URL on a loopback port nobody listens
// on: every connection is refused at once.
func RefusedEndpoint(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/v1/metrics"
}

// SilentEndpoint returns a metrics URL whose server accepts connections and
// never answers, like a host that swallows packets. It closes when the
// test ends.
func SilentEndpoint(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
			close(done)
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	tb.Cleanup(func() { ln.Close(); <-done })
	return "http://" + ln.Addr().String() + "/v1/metrics"
}
