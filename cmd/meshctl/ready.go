package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// readyPoll is the pause between two looks at the bridge.
const readyPoll = 200 * time.Millisecond

// runReady waits until the bridge answers /readyz and lists every --service
// with a running instance, looking as --identity with its client
// certificate.
func runReady(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshctl ready", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bridgeURL := fs.String("bridge", "https://127.0.0.1:8443", "bridge base URL")
	dir := fs.String("dir", ".mesh", "credentials folder")
	identity := fs.String("identity", "gateway", "identity whose client certificate is presented")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait")
	var services listFlag
	fs.Var(&services, "service", "a service that must have a running instance (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	base := strings.TrimSuffix(*bridgeURL, "/")
	if !strings.HasPrefix(base, "https://") {
		return fmt.Errorf("--bridge %q: the bridge speaks https://", *bridgeURL)
	}
	tc, err := mesh.Credentials{Dir: *dir}.TLSConfig(*identity)
	if err != nil {
		return err
	}
	var protos http.Protocols
	protos.SetHTTP2(true)
	c := &http.Client{Transport: &http.Transport{Protocols: &protos, TLSClientConfig: tc}, Timeout: 2 * time.Second}
	defer c.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	paths := []string{"/readyz"}
	for _, s := range services {
		paths = append(paths, "/v1/services/"+s)
	}
	for _, p := range paths {
		if err := waitFor(ctx, c, base+p); err != nil {
			return fmt.Errorf("not ready after %v: %w", *timeout, err)
		}
	}
	fmt.Fprintf(stdout, "bridge %s is ready", base)
	if len(services) > 0 {
		fmt.Fprintf(stdout, "; running: %s", strings.Join(services, ", "))
	}
	fmt.Fprintln(stdout)
	return nil
}

// waitFor polls url until it answers 200 (with at least one instance, for a
// service) or ctx ends, and returns the last failure.
func waitFor(ctx context.Context, c *http.Client, url string) error {
	for {
		err := lookOnce(ctx, c, url)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(readyPoll):
		}
	}
}

func lookOnce(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, res.Status, strings.TrimSpace(string(body)))
	}
	if !strings.Contains(url, "/v1/services/") {
		return nil
	}
	var si bridge.ServiceInfo
	if err := json.Unmarshal(body, &si); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if len(si.Instances) == 0 {
		return errors.New("GET " + url + ": no running instance")
	}
	return nil
}
