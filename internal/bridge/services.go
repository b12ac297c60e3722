package bridge

import (
	"net/http"

	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// ServiceList is the body of GET /v1/services.
type ServiceList struct {
	Services []ServiceInfo `json:"services"`
}

// handleServices serves GET /v1/services from a fresh discovery sweep
// (rate-limited).
func (b *Bridge) handleServices(w http.ResponseWriter, r *http.Request) {
	b.disc.refreshOnDemand(r.Context())
	writeJSON(w, http.StatusOK, ServiceList{Services: b.disc.list()})
}

// handleService serves GET /v1/services/{service}.
func (b *Bridge) handleService(w http.ResponseWriter, r *http.Request, name string) {
	if err := checkEncoded(name); err != nil {
		b.writeError(w, r, rpc.Errorf(rpc.CodeBadRequest, "service: %v", err))
		return
	}
	if err := subjects.ValidateService(name); err != nil {
		b.writeError(w, r, rpc.Errorf(rpc.CodeBadRequest, "service: %v", err))
		return
	}
	b.disc.refreshOnDemand(r.Context())
	si, ok := b.disc.service(name)
	if !ok {
		b.writeError(w, r, rpc.Errorf(rpc.CodeNotFound, "unknown service %q", name))
		return
	}
	writeJSON(w, http.StatusOK, si)
}
