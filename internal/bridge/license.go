package bridge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// validLicenseID reports whether id matches [A-Za-z0-9-]{1,64}.
func validLicenseID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// handleLicense serves GET /v1/licenses/{id}: the PDF stored under id in
// the license object store, streamed as it is read.
func (b *Bridge) handleLicense(w http.ResponseWriter, r *http.Request, id string) {
	if !validLicenseID(id) {
		b.writeError(w, r, rpc.Errorf(rpc.CodeBadRequest, "license id %q must match [A-Za-z0-9-]{1,64}", id))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), b.cfg.MaxCallTimeout)
	defer cancel()
	store, err := b.js.ObjectStore(ctx, b.cfg.LicenseBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		b.writeError(w, r, rpc.Errorf(rpc.CodeNotFound, "license %q not found: no license has been issued", id))
		return
	}
	if err != nil {
		b.writeError(w, r, rpc.Errorf(rpc.CodeUnavailable, "license store unavailable: %v", err))
		return
	}
	obj, err := store.Get(ctx, id)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		b.writeError(w, r, rpc.Errorf(rpc.CodeNotFound, "license %q not found", id))
		return
	}
	if err != nil {
		b.writeError(w, r, rpc.Errorf(rpc.CodeUnavailable, "reading license %q: %v", id, err))
		return
	}
	defer obj.Close()
	info, err := obj.Info()
	if err != nil {
		b.writeError(w, r, rpc.Errorf(rpc.CodeUnavailable, "reading license %q: %v", id, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Length", strconv.FormatUint(info.Size, 10))
	h.Set("Content-Disposition", `inline; filename="`+id+`.pdf"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, obj); err != nil {
		// The status is sent: reset the stream so the client sees a
		// failure, not a truncated PDF.
		b.log.Warn("license stream failed", "id", id, "error", err)
		panic(http.ErrAbortHandler)
	}
}
