// Command pitlane creates and manages containerized development workspaces
// and connects editors to them over SSH.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:]))
}
