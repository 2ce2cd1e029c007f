package agent_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/workspace"
)

// BenchmarkSSHTrue times `ssh NAME.pitlane true` (OpenSSH, the pitlane
// ProxyCommand, a Docker exec of the agent, the SSH handshake and one
// command) against the floor, `docker exec CONTAINER true`, alternating
// the two in the same run. The ratio metric is the number to watch
// (target: at most 1.5).
func BenchmarkSSHTrue(b *testing.B) {
	e := need(b)
	ssh := exec.Command("ssh", "-F", e.cfg, e.host(), "true")
	if out, err := ssh.CombinedOutput(); err != nil { // installs the agent
		b.Fatalf("warm-up: %v: %s", err, out)
	}
	container := workspace.ContainerName(e.name)
	var sshTime, execTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if out, err := exec.Command("ssh", "-F", e.cfg, e.host(), "true").CombinedOutput(); err != nil {
			b.Fatalf("ssh: %v: %s", err, out)
		}
		t1 := time.Now()
		if out, err := exec.Command("docker", "exec", container, "true").CombinedOutput(); err != nil {
			b.Fatalf("docker exec: %v: %s", err, out)
		}
		sshTime += t1.Sub(t0)
		execTime += time.Since(t1)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(sshTime.Microseconds())/1000/n, "ssh-ms/op")
	b.ReportMetric(float64(execTime.Microseconds())/1000/n, "docker-exec-ms/op")
	b.ReportMetric(float64(sshTime)/float64(execTime), "ssh/docker-exec")
}

// BenchmarkSCPThroughput copies a 32 MiB file into the workspace with scp
// through the tunnel; the MB/s column is the throughput.
func BenchmarkSCPThroughput(b *testing.B) {
	e := need(b)
	src := filepath.Join(b.TempDir(), "payload.bin")
	makeFile(b, src, 32<<20)
	b.SetBytes(32 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command("scp", "-q", "-F", e.cfg, src, fmt.Sprintf("%s:/tmp/bench.bin", e.host())).CombinedOutput(); err != nil {
			b.Fatalf("scp: %v: %s", err, out)
		}
	}
}
