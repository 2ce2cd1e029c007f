package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"github.com/docker/docker/api/types/container"
)

// CopyFile writes data to path inside a container (created or running),
// creating the file with mode and owner uid:gid. The parent folder must
// exist.
func (c *Client) CopyFile(ctx context.Context, id, dst string, data []byte, mode os.FileMode, uid, gid int) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{
		Name: path.Base(dst), Mode: int64(mode.Perm()), Size: int64(len(data)),
		Uid: uid, Gid: gid, ModTime: time.Now(), Typeflag: tar.TypeReg,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	err := c.api.CopyToContainer(ctx, id, path.Dir(dst), &buf, container.CopyToContainerOptions{})
	if err != nil {
		return fmt.Errorf("copying %s into the container: %w", dst, wrap(err))
	}
	return nil
}

// appendFile returns a tar stream holding the entries of src followed by one
// more regular file.
func appendFile(src io.Reader, name string, data []byte) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tr := tar.NewReader(src)
		tw := tar.NewWriter(pw)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			if err := tw.WriteHeader(hdr); err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.Copy(tw, tr); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Now(), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			pw.CloseWithError(err)
			return
		}
		if _, err := tw.Write(data); err != nil {
			pw.CloseWithError(err)
			return
		}
		pw.CloseWithError(tw.Close())
	}()
	return pr
}
