package trace

import (
	"slices"
	"strings"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// RejectReason says why a reader withholds a stored trace event.
type RejectReason string

// The reasons a reader withholds an event.
const (
	// RejectServerOfAnother: a server span of a service other than its
	// emitter. Only a booth handles its own requests (the bridge its own).
	RejectServerOfAnother RejectReason = "server_span_of_another_service"
	// RejectClientOfAnother: a client span whose caller is not its emitter.
	// An identity records only the calls it makes itself.
	RejectClientOfAnother RejectReason = "client_span_of_another_caller"
	// RejectSubject: the event was stored on a subject that names no
	// emitter (not svc.trace.<service>).
	RejectSubject RejectReason = "subject_names_no_emitter"
	// RejectMalformed: the stored message is not a valid batch; counted
	// once per message, whatever it holds.
	RejectMalformed RejectReason = "malformed_batch"
)

// rejectReasons lists every RejectReason.
var rejectReasons = [...]RejectReason{RejectServerOfAnother, RejectClientOfAnother, RejectSubject, RejectMalformed}

// RejectReasons lists every RejectReason, for metrics.
func RejectReasons() []RejectReason { return slices.Clone(rejectReasons[:]) }

// EmitterOf returns the emitter a trace subject names: "fee-calc" for
// "svc.trace.fee-calc". ok is false for any other subject.
func EmitterOf(subject string) (emitter string, ok bool) {
	name, found := strings.CutPrefix(subject, strings.TrimSuffix(subjects.TraceWildcard, ">"))
	if !found || subjects.ValidateService(name) != nil {
		return "", false
	}
	return name, true
}

// MayEmit says whether emitter, the identity whose subject
// svc.trace.<emitter> an event was stored on, may have made ev: the rule
// every reader of SVC_TRACE applies. NATS lets each identity publish on its
// own trace subject only, so the subject proves who published; what an
// identity may say there is only what it saw itself:
//   - a server span (kind "server") of its own service: a booth handling a
//     request to it, the bridge ("bridge") handling an HTTP request;
//   - a client span (kind "client") with itself as the caller: a booth, the
//     bridge or the gateway recording an attempt it made. The bridge's
//     attempts name the bridge as their caller, not the gateway it acts
//     for (the gateway is the caller of the bridge's server span).
//
// Anything else, such as fee-calc recording a server span of payment, is
// refused with the reason.
func MayEmit(emitter string, ev *Event) (RejectReason, bool) {
	switch {
	case ev.Kind == KindServer && ev.Service != emitter:
		return RejectServerOfAnother, false
	case ev.Kind == KindClient && ev.Caller != emitter:
		return RejectClientOfAnother, false
	}
	return "", true
}
