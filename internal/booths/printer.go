package booths

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// GenerateRequest is license-printer's /generate request; other fields
// (such as an SSN) are ignored and never printed.
type GenerateRequest struct {
	Name        string `json:"name"`
	LicenseType string `json:"license_type"`
}

// GenerateReply is license-printer's /generate reply: the license's id in
// LicenseBucket and the bridge URL that serves its PDF.
type GenerateReply struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// startPrinter binds the license object store and serves /generate.
func startPrinter(ctx context.Context, nc *nats.Conn, cfg Config) (*rpc.Booth, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	store, err := stores.ObjectStore(ctx, js, LicenseBucket, cfg.expect())
	if err != nil {
		return nil, fmt.Errorf("license-printer: %w", err)
	}
	return newBooth(nc, cfg, "license-printer", "Prints a license as a PDF", "/generate",
		generate(store, cfg.logger()), extras{})
}

func generate(store jetstream.ObjectStore, log *slog.Logger) rpc.Handler[GenerateRequest, GenerateReply] {
	return func(ctx context.Context, req *GenerateRequest) (*GenerateReply, error) {
		if err := printableName(req.Name); err != nil {
			return nil, rpc.Errorf(rpc.CodeBadRequest, "license-printer: %v", err)
		}
		if req.LicenseType == "" {
			return nil, rpc.Errorf(rpc.CodeBadRequest, "license-printer: license_type is required")
		}
		if !licenseTypePattern.MatchString(req.LicenseType) {
			return nil, rpc.Errorf(rpc.CodeBadRequest, "license-printer: license_type %s must be lower-case letters, digits and '-'", clip(req.LicenseType))
		}
		id := uuid.NewString()
		issued := time.Now().UTC()
		lic := License{
			ID: id, Number: licenseNumber(req.LicenseType, id, issued),
			Name: req.Name, LicenseType: req.LicenseType, Issued: issued,
		}
		pdf, err := renderLicense(lic)
		if err != nil {
			return nil, rpc.Errorf(rpc.CodeInternal, "license-printer: %w", err)
		}
		_, err = store.Put(ctx, jetstream.ObjectMeta{
			Name:        id,
			Description: "license " + lic.Number,
			Headers:     nats.Header{"Content-Type": []string{"application/pdf"}},
			Metadata:    map[string]string{"license_number": lic.Number, "license_type": lic.LicenseType},
		}, bytes.NewReader(pdf))
		if err != nil {
			return nil, storeError(ctx, "license-printer: storing the PDF", err)
		}
		log.InfoContext(ctx, "license printed", "request_id", rpc.RequestID(ctx), "id", id, "number", lic.Number, "bytes", len(pdf))
		return &GenerateReply{ID: id, URL: LicenseURL(id)}, nil
	}
}
