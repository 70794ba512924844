package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
)

// The load generator speaks HTTP/1.1 itself over one keep-alive connection per worker: each
// request is bytes serialised once beforehand (by net/http, so they are what a client sends), and
// an answer is read for its status and its body's length only. net/http's client spends about as
// much CPU per request as the server it measures (a goroutine pair and a header map per
// connection and answer), and on a 2-core machine whose other core runs the database that CPU is
// taken from the server and the database; the figures were taken with wrk, a C load
// generator, for the same reason.

// wireRequest is a request as a client writes it on the connection; headers are name, value
// pairs. A body is sent as JSON.
func wireRequest(method, url string, body []byte, headers ...string) []byte {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		panic(fmt.Sprintf("bench: request %s %s: %v", method, url, err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		panic(fmt.Sprintf("bench: serialise %s %s: %v", method, url, err))
	}
	return b.Bytes()
}

// always sends the same request every time.
func always(req []byte) func() []byte { return func() []byte { return req } }

// wireConn is one keep-alive connection of the load generator.
type wireConn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
}

// do writes one request and reads its answer, returning the status. A connection that failed or
// that the server closes is dialled again for the next request.
func (w *wireConn) do(req []byte) (int, error) {
	if w.c == nil {
		c, err := net.Dial("tcp", w.addr)
		if err != nil {
			return 0, err
		}
		w.c = c
		if w.r == nil {
			w.r = bufio.NewReaderSize(c, 16<<10)
		} else {
			w.r.Reset(c)
		}
	}
	status, keep, err := w.roundTrip(req)
	if err != nil || !keep {
		w.close()
	}
	return status, err
}

func (w *wireConn) close() {
	if w.c != nil {
		w.c.Close()
		w.c = nil
	}
}

var errAnswer = errors.New("bench: malformed HTTP answer")

// roundTrip reads the status line ("HTTP/1.1 200 OK"), the headers it needs (Content-Length,
// Transfer-Encoding: chunked, Connection: close) and discards the body.
func (w *wireConn) roundTrip(req []byte) (status int, keep bool, err error) {
	if _, err := w.c.Write(req); err != nil {
		return 0, false, err
	}
	line, err := w.line()
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, errAnswer
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, errAnswer
	}
	length, chunked, keep := int64(-1), false, true
	for {
		line, err := w.line()
		if err != nil {
			return status, false, err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return status, false, errAnswer
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return status, false, errAnswer
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		err = w.discardChunked()
	case length >= 0:
		_, err = w.r.Discard(int(length))
	default: // the body runs to the end of the connection
		_, err = io.Copy(io.Discard, w.r)
		keep = false
	}
	return status, keep && err == nil, err
}

// line reads one CRLF-terminated line without its terminator; it is valid until the next read.
func (w *wireConn) line() ([]byte, error) {
	line, err := w.r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

func (w *wireConn) discardChunked() error {
	for {
		line, err := w.line()
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 {
			return errAnswer
		}
		if n == 0 { // the last chunk, then trailers up to an empty line
			for {
				if line, err = w.line(); err != nil || len(line) == 0 {
					return err
				}
			}
		}
		if _, err := w.r.Discard(int(n) + 2); err != nil {
			return err
		}
	}
}
