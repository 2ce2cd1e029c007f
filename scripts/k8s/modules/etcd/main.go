// Command etcd is the etcd server of the test cluster, built from the Go
// module proxy by scripts/k8s/build.sh.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
