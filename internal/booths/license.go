package booths

import (
	"context"
	"errors"
	"regexp"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// LicenseBucket is the JetStream object store of printed licenses; an
// object's name is the license id.
const LicenseBucket = stores.Licenses

// LicenseContentType is the media type of a license object.
const LicenseContentType = "application/pdf"

// licenseIDPattern is what OpenLicense accepts as an id: nothing that could
// mean more than one object reaches NATS.
var licenseIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// LicenseURL is the bridge path that serves license id's PDF.
func LicenseURL(id string) string { return "/v1/licenses/" + id }

// OpenLicense returns a reader of license id's PDF from LicenseBucket; the
// caller closes it. Info() on the result gives its size and time. Errors are
// *rpc.Error: 400 for an id that is not 1-64 letters, digits or '-', 404 for
// no such license, 503/504 when JetStream does not answer.
func OpenLicense(ctx context.Context, js jetstream.JetStream, id string) (jetstream.ObjectResult, error) {
	if !licenseIDPattern.MatchString(id) {
		return nil, rpc.Errorf(rpc.CodeBadRequest, "license id %s must be 1-64 letters, digits or '-'", clip(id))
	}
	store, err := js.ObjectStore(ctx, LicenseBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, rpc.Errorf(rpc.CodeNotFound, "license %s not found: no license has been printed yet", id)
	}
	if err != nil {
		return nil, storeError(ctx, "licenses", err)
	}
	res, err := store.Get(ctx, id)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, rpc.Errorf(rpc.CodeNotFound, "license %s not found", id)
	}
	if err != nil {
		return nil, storeError(ctx, "licenses", err)
	}
	return res, nil
}
