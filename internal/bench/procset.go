package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"time"

	"github.com/hms-svc/hms-svc/internal/wait"
)

// startTimeout bounds how long a child process may take to say it is
// ready.
const startTimeout = 30 * time.Second

var (
	reBridgeUp = regexp.MustCompile(`msg="bridge listening"`)
	reAddr     = regexp.MustCompile(`\baddr=(\S+)`)
	reNATS     = regexp.MustCompile(`\bnats=(\S+)`)
	rePlainUp  = regexp.MustCompile(`plain listening addr=(\S+)`)
	reBoothsUp = regexp.MustCompile(`booths serving`)
)

// procSet starts and stops the child processes of the HTTP pairs.
type procSet struct {
	cfg   *Config
	creds *Creds
	procs []*Proc
}

func (s *procSet) bin(name string) string { return filepath.Join(s.cfg.BinDir, name) }

func (s *procSet) start(name, bin string, args ...string) (*Proc, error) {
	p, err := StartProc(bin, s.cfg.RepoDir, filepath.Join(s.cfg.WorkDir, name+".log"), args)
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, p)
	return p, nil
}

// bridge starts broker-bridge; it returns the HTTP and NATS addresses from
// its "bridge listening" log line.
func (s *procSet) bridge(ctx context.Context, name string, args ...string) (*Proc, string, string, error) {
	args = append([]string{"--listen", "127.0.0.1:0", "--mesh-dir", s.creds.Dir, "--matrix", s.creds.MatrixFile}, args...)
	p, err := s.start(name, s.bin("broker-bridge"), args...)
	if err != nil {
		return nil, "", "", err
	}
	m, err := p.WaitLine(ctx, reBridgeUp, startTimeout)
	if err != nil {
		return nil, "", "", err
	}
	addr, nats := reAddr.FindStringSubmatch(m[0]), reNATS.FindStringSubmatch(m[0])
	if addr == nil || nats == nil {
		return nil, "", "", fmt.Errorf("bench: %s's listening line names no addr= or nats=: %s", name, m[0])
	}
	return p, addr[1], nats[1], nil
}

// plain starts the plain Go server child; tlsDir "" serves h2c.
func (s *procSet) plain(ctx context.Context, name, tlsDir string) (*Proc, string, error) {
	args := []string{"plain", "-listen", "127.0.0.1:0", "-fees", s.cfg.feeTable()}
	if tlsDir != "" {
		args = append(args, "-tls-dir", tlsDir)
	}
	p, err := s.start(name, s.bin("meshbench"), args...)
	if err != nil {
		return nil, "", err
	}
	m, err := p.WaitLine(ctx, rePlainUp, startTimeout)
	if err != nil {
		return nil, "", err
	}
	return p, m[1], nil
}

// boothRunner starts booth-runner with the demo booths on natsURL, each
// with its own credentials and call-token verifier.
func (s *procSet) boothRunner(ctx context.Context, natsURL string) (*Proc, error) {
	p, err := s.start("booth-runner", s.bin("booth-runner"), "-nats", natsURL, "-demo",
		"-fees", s.cfg.feeTable(), "-mesh-dir", s.creds.Dir, "-matrix", s.creds.MatrixFile)
	if err != nil {
		return nil, err
	}
	if _, err := p.WaitLine(ctx, reBoothsUp, startTimeout); err != nil {
		return nil, err
	}
	return p, nil
}

// stop stops every process, the last started first.
func (s *procSet) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		_ = s.procs[i].Stop(15 * time.Second)
	}
}

// freeAddr returns a loopback address with a port free now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// h2cClient is an HTTP/2-with-prior-knowledge client.
func h2cClient() *http.Client {
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &protos}, Timeout: 5 * time.Second}
}

// tlsClient is an HTTP/2 client presenting tc's certificate.
func tlsClient(tc *tls.Config) *http.Client {
	var protos http.Protocols
	protos.SetHTTP2(true)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: h2TLS(tc), Protocols: &protos}, Timeout: 5 * time.Second}
}

// waitOK posts the fee-calc request to url until it is answered 200 (the
// bridge learns of a booth by discovery), or timeout passes.
func waitOK(ctx context.Context, c *http.Client, url string, timeout time.Duration) error {
	g := &H2Gen{url: url}
	deadline := time.Now().Add(timeout)
	for {
		err := g.post(ctx, c)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: %s not answering 200 after %v: %w", url, timeout, err)
		}
		if !wait.Sleep(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
}
