package uitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Browser is a headless Chromium driven over a DevTools pipe.
type Browser struct {
	cmd    *exec.Cmd
	toChr  *os.File // Chromium reads commands from it (its fd 3)
	stderr *bytes.Buffer
	exited chan struct{}

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan reply
	readErr error
}

// message is one DevTools protocol message, either way.
type message struct {
	ID        int64           `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    any             `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type reply struct {
	result json.RawMessage
	err    error
}

// Path returns the Chromium executable: $HMS_CHROMIUM if set, else the
// first of chromium, chromium-browser, google-chrome on $PATH; "" if none.
func Path() string {
	if p := os.Getenv("HMS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start runs a headless Chromium for the test, closed by t.Cleanup. It
// skips the test where Chromium is not installed, except in CI (CI set),
// which installs it: there it fails.
func Start(t testing.TB) *Browser {
	t.Helper()
	path := Path()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium is not installed, but CI must run the browser test: install Debian package chromium")
		}
		t.Skip("Chromium is not installed (Debian package chromium, or set HMS_CHROMIUM): skipping the browser test")
	}
	b, err := start(path, t.TempDir())
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Logf("closing Chromium: %v", err)
		}
	})
	return b
}

func start(path, profile string) (*Browser, error) {
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-default-apps", "--disable-extensions", "--disable-dev-shm-usage",
		"--disable-domain-reliability", "--disable-client-side-phishing-detection",
		"--metrics-recording-only", "--hide-scrollbars", "--mute-audio",
		// Test servers use self-signed certificates (httptest.StartTLS).
		"--ignore-certificate-errors",
		// Only loopback: any other host name fails to resolve.
		"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
		"--user-data-dir="+profile, "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, resW} // fds 3 and 4
	b := &Browser{cmd: cmd, toChr: cmdW, stderr: &bytes.Buffer{}, exited: make(chan struct{}), pending: map[int64]chan reply{}}
	cmd.Stderr = &lockedWriter{w: b.stderr}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	cmdR.Close()
	resW.Close()
	go func() { _ = cmd.Wait(); close(b.exited) }()
	go b.read(resR)
	return b, nil
}

// read dispatches Chromium's replies to their callers; events are dropped.
func (b *Browser) read(r *os.File) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	var err error
	for {
		var raw []byte
		raw, err = br.ReadBytes(0)
		if err != nil {
			break
		}
		var m message
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil || m.ID == 0 {
			continue
		}
		rep := reply{result: m.Result}
		if m.Error != nil {
			rep.err = fmt.Errorf("devtools: %s (%d)", m.Error.Message, m.Error.Code)
		}
		b.mu.Lock()
		ch := b.pending[m.ID]
		delete(b.pending, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- rep
		}
	}
	b.mu.Lock()
	b.readErr = fmt.Errorf("devtools pipe closed: %w", err)
	for id, ch := range b.pending {
		ch <- reply{err: b.readErr}
		delete(b.pending, id)
	}
	b.mu.Unlock()
}

// call sends a command (to a page when session is set) and decodes its
// result into out (which may be nil).
func (b *Browser) call(ctx context.Context, session, method string, params, out any) error {
	ch := make(chan reply, 1)
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return b.readErr
	}
	b.nextID++
	id := b.nextID
	b.pending[id] = ch
	data, err := json.Marshal(message{ID: id, SessionID: session, Method: method, Params: params})
	if err == nil {
		_, err = b.toChr.Write(append(data, 0))
	}
	if err != nil {
		delete(b.pending, id)
	}
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case rep := <-ch:
		if rep.err != nil {
			return fmt.Errorf("%s: %w", method, rep.err)
		}
		if out != nil {
			return json.Unmarshal(rep.result, out)
		}
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Close asks Chromium to quit and kills it if it has not within 5 seconds.
func (b *Browser) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = b.call(ctx, "", "Browser.close", nil, nil)
	b.toChr.Close()
	select {
	case <-b.exited:
		return nil
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
		return errors.New("chromium did not quit: killed")
	}
}

// Stderr returns what Chromium wrote to its standard error so far.
func (b *Browser) Stderr() string {
	lw := b.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return b.stderr.String()
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
