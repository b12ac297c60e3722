package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// PlainHandler is the plain Go HTTP server of the HTTP pairs: it answers
// every POST with the fee-calc JSON work done in-process, and nothing else
// (no checks, no mesh).
func PlainHandler(work *FeeWork) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, err := work.Do(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
}

// ServePlain serves h on ln until ctx ends: HTTPS with HTTP/2 (and
// HTTP/1.1) when tc is set, otherwise cleartext HTTP/1.1 and HTTP/2 with
// prior knowledge (h2c) on the same port.
func ServePlain(ctx context.Context, ln net.Listener, h http.Handler, tc *tls.Config) error {
	var protos http.Protocols
	protos.SetHTTP1(true)
	if tc != nil {
		protos.SetHTTP2(true)
	} else {
		protos.SetUnencryptedHTTP2(true)
	}
	srv := &http.Server{
		Handler: h, Protocols: &protos, TLSConfig: tc,
		ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second,
		HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 250},
	}
	errc := make(chan error, 1)
	go func() {
		if tc != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
