//go:build !linux

package agent

import (
	"errors"
	"io"
)

// Serve is only available on Linux, where workspace containers run.
func Serve(in io.Reader, out io.Writer, logw io.Writer) error {
	return errors.New("the Pitlane agent runs inside Linux containers only")
}
