// Command helper is a test program copied into workspace containers by the
// agent's integration tests, because the base image has no network tools
// and no ssh-add.
//
//	helper echo ADDR   serve TCP on ADDR, answering each line with "echo: LINE"
//	helper agent-list  list the keys of the ssh-agent at $SSH_AUTH_SOCK
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"

	"golang.org/x/crypto/ssh/agent"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: helper echo ADDR | helper agent-list")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "echo":
		l, err := net.Listen("tcp", os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for {
			c, err := l.Accept()
			if err != nil {
				os.Exit(1)
			}
			go func(c net.Conn) {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					fmt.Fprintf(c, "echo: %s\n", sc.Text())
				}
			}(c)
		}
	case "agent-list":
		c, err := net.Dial("unix", os.Getenv("SSH_AUTH_SOCK"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "no agent:", err)
			os.Exit(2)
		}
		keys, err := agent.NewClient(c).List()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, k := range keys {
			fmt.Println(k.Format, k.Comment)
		}
	}
}
