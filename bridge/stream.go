package bridge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/protocol"
)

// MaxMessageSize is the largest message body the bridge accepts. Larger
// frames are skipped and answered with a parse error.
const MaxMessageSize = 16 << 20

// maxHeaderLine bounds one header line; longer lines are a framing error.
const maxHeaderLine = 8 << 10

// Stream is a jsonrpc2.ObjectStream with LSP framing (Content-Length
// headers) that survives malformed input. jsonrpc2's VSCodeObjectCodec
// returns an error for a body that is not JSON, and jsonrpc2.Conn closes
// the connection on any read error; Stream instead reads each frame whole,
// answers a bad one itself (parse error or invalid request, id null unless
// the id could be read) and goes on with the next frame. Only end of input
// and I/O errors end the stream. Writes use VSCodeObjectCodec.
type Stream struct {
	r      *bufio.Reader
	closer io.Closer

	mu sync.Mutex // guards w
	w  *bufio.Writer

	// OnBadMessage, if set, is called (without the write lock) for every
	// frame that was answered with an error instead of being passed on.
	OnBadMessage func(code int, msg string)
}

// NewStream returns a Stream reading frames from r and writing them to w.
// Close closes closer, if not nil.
func NewStream(r io.Reader, w io.Writer, closer io.Closer) *Stream {
	return &Stream{
		r:      bufio.NewReaderSize(r, 64<<10),
		w:      bufio.NewWriterSize(w, 64<<10),
		closer: closer,
	}
}

// WriteObject implements jsonrpc2.ObjectStream.
func (s *Stream) WriteObject(obj any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := (jsonrpc2.VSCodeObjectCodec{}).WriteObject(s.w, obj); err != nil {
		return err
	}
	return s.w.Flush()
}

// Close implements jsonrpc2.ObjectStream.
func (s *Stream) Close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

// frameError is a malformed frame that the stream can skip.
type frameError struct{ msg string }

func (e *frameError) Error() string { return e.msg }

// ReadObject implements jsonrpc2.ObjectStream. It returns only when a
// well-formed message was decoded into v, or on end of input or an I/O
// error.
func (s *Stream) ReadObject(v any) error {
	for {
		body, err := s.readFrame()
		var fe *frameError
		if errors.As(err, &fe) {
			s.reject(nil, protocol.CodeParseError, "parse error: "+fe.msg)
			continue
		}
		if err != nil {
			return err
		}
		if code, msg, id := check(body); code != 0 {
			s.reject(id, code, msg)
			continue
		}
		if err := json.Unmarshal(body, v); err != nil {
			s.reject(readID(body), protocol.CodeInvalidRequest, "invalid request: "+err.Error())
			continue
		}
		return nil
	}
}

// check classifies a frame body: 0 if it may be a JSON-RPC message, else
// the error code and message to answer with (and the id, if readable).
func check(body []byte) (code int, msg string, id json.RawMessage) {
	if !json.Valid(body) {
		var x any
		err := json.Unmarshal(body, &x)
		return protocol.CodeParseError, "parse error: the message body is not valid JSON: " + err.Error(), nil
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		return protocol.CodeInvalidRequest, "invalid request: batches are not supported; send one message per frame", nil
	case len(trimmed) == 0 || trimmed[0] != '{':
		return protocol.CodeInvalidRequest, "invalid request: a message must be a JSON object", nil
	}
	var m struct {
		JSONRPC *string         `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  json.RawMessage `json:"method"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return protocol.CodeInvalidRequest, "invalid request: " + err.Error(), nil
	}
	id = validID(m.ID)
	if m.JSONRPC == nil || *m.JSONRPC != "2.0" {
		return protocol.CodeInvalidRequest, `invalid request: "jsonrpc" must be "2.0"`, id
	}
	if len(m.ID) > 0 && id == nil && string(m.ID) != "null" {
		return protocol.CodeInvalidRequest, "invalid request: an id must be a string or a non-negative integer", nil
	}
	if len(m.Method) > 0 {
		var s string
		if json.Unmarshal(m.Method, &s) != nil || s == "" {
			return protocol.CodeInvalidRequest, `invalid request: "method" must be a non-empty string`, id
		}
	}
	return 0, "", nil
}

// validID returns raw if it is an id the bridge can echo: a string or an
// integer that fits jsonrpc2.ID.
func validID(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return raw
	}
	var n uint64
	if json.Unmarshal(raw, &n) == nil {
		return raw
	}
	return nil
}

func readID(body []byte) json.RawMessage {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	return validID(m.ID)
}

// rawError is an error response written by the stream itself; its id may
// be null, which jsonrpc2.Response cannot express.
type rawError struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (s *Stream) reject(id json.RawMessage, code int, msg string) {
	if id == nil {
		id = json.RawMessage("null")
	}
	r := rawError{JSONRPC: "2.0", ID: id}
	r.Error.Code = code
	r.Error.Message = msg
	if s.OnBadMessage != nil {
		s.OnBadMessage(code, msg)
	}
	// A write error here surfaces on the next write by the connection.
	_ = s.WriteObject(r)
}

// readFrame reads one frame: header lines up to an empty line, then
// Content-Length bytes. Malformed headers and oversized bodies come back as
// *frameError after the offending bytes were consumed.
func (s *Stream) readFrame() ([]byte, error) {
	length := -1
	var bad string
	started := false
	for {
		line, err := s.readLine()
		if err != nil {
			var fe *frameError
			if errors.As(err, &fe) {
				bad = fe.msg
				started = true
				continue
			}
			if started && err == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if line == "" {
			if !started {
				continue // stray empty lines between frames
			}
			break
		}
		started = true
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			bad = fmt.Sprintf("malformed header line %q", truncate(line, 60))
			continue
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil || n < 0 {
				bad = fmt.Sprintf("invalid Content-Length %q", truncate(strings.TrimSpace(value), 40))
				continue
			}
			length = n
		}
	}
	if bad != "" {
		return nil, &frameError{bad}
	}
	if length < 0 {
		return nil, &frameError{"missing Content-Length header"}
	}
	if length > MaxMessageSize {
		if _, err := io.CopyN(io.Discard, s.r, int64(length)); err != nil {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, &frameError{fmt.Sprintf("message of %d bytes exceeds the limit of %d bytes", length, MaxMessageSize)}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(s.r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

// readLine reads a header line without its "\r\n" (a bare "\n" is
// accepted too).
func (s *Stream) readLine() (string, error) {
	var buf []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			if len(buf) > maxHeaderLine {
				// Skip the rest of the line.
				for err == bufio.ErrBufferFull {
					_, err = s.r.ReadSlice('\n')
				}
				if err != nil {
					return "", err
				}
				return "", &frameError{"header line too long"}
			}
			continue
		}
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		if len(buf) > maxHeaderLine {
			return "", &frameError{"header line too long"}
		}
		line := strings.TrimSuffix(string(buf), "\n")
		return strings.TrimSuffix(line, "\r"), nil
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
