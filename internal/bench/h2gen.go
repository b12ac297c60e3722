package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"
)

// H2Gen is the Go HTTP/2 load generator of the mTLS pair: conns
// connections, each an http.Transport limited to one connection, each
// carrying streams concurrent requests in a closed loop.
type H2Gen struct {
	clients []*http.Client
	streams int
	url     string
}

// NewH2Gen returns a generator that POSTs FeeBody to url over HTTPS with tc
// (the gateway's client certificate and the mesh CA).
func NewH2Gen(url string, tc *tls.Config, conns, streams int) *H2Gen {
	g := &H2Gen{streams: streams, url: url}
	for range conns {
		var protos http.Protocols
		protos.SetHTTP2(true)
		tr := &http.Transport{
			TLSClientConfig: h2TLS(tc), Protocols: &protos,
			MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, ForceAttemptHTTP2: true,
		}
		g.clients = append(g.clients, &http.Client{Transport: tr, Timeout: 10 * time.Second})
	}
	return g
}

// h2TLS returns a copy of tc for one HTTP/2 transport. The transport
// appends to the config's NextProtos; a slice of its own keeps copies of
// one config from writing into a shared array.
func h2TLS(tc *tls.Config) *tls.Config {
	c := tc.Clone()
	c.NextProtos = []string{"h2"}
	return c
}

// Run measures requests per second for d after warm.
func (g *H2Gen) Run(ctx context.Context, warm, d time.Duration) (Result, error) {
	n := len(g.clients) * g.streams
	return closedIndexed(ctx, n, warm, d, func(ctx context.Context, i int) error {
		return g.post(ctx, g.clients[i/g.streams])
	})
}

func (g *H2Gen) post(ctx context.Context, c *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(FeeBody))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: %s answered %s", g.url, res.Status)
	}
	if res.ProtoMajor != 2 {
		return fmt.Errorf("bench: %s answered over %s, want HTTP/2", g.url, res.Proto)
	}
	return nil
}

// Close closes the generator's connections.
func (g *H2Gen) Close() {
	for _, c := range g.clients {
		c.CloseIdleConnections()
	}
}
