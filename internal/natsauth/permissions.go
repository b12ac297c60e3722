package natsauth

import (
	"fmt"
	"slices"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// InboxPrefix is the inbox prefix identity's connection must use
// (nats.CustomInboxPrefix): it may subscribe to "<prefix>.>" only, so no
// identity can read another's replies.
func InboxPrefix(identity string) string { return "_INBOX." + identity }

// DiscoverySubjects are what an operator granted discovery may publish:
// the NATS micro discovery requests, to every service or to one
// ("$SRV.INFO.fee-calc") or one instance. The booths answer them on the
// operator's inbox, which only it may read.
var DiscoverySubjects = []string{
	"$SRV.PING", "$SRV.PING.>",
	"$SRV.INFO", "$SRV.INFO.>",
	"$SRV.STATS", "$SRV.STATS.>",
}

// DeniedJetStream lists the JetStream API no identity may call: purging or
// deleting a stream, or deleting a message from one. Key-value buckets and
// object stores are streams (KV_<bucket>, OBJ_<bucket>), so this covers them.
var DeniedJetStream = []string{
	"$JS.API.STREAM.PURGE.>",
	"$JS.API.STREAM.DELETE.>",
	"$JS.API.STREAM.MSG.DELETE.>",
}

// DeniedStoreEdits lists the JetStream API only a provisioner may call:
// creating and updating a stream. Everyone else is denied it outright, on
// top of never being granted it.
var DeniedStoreEdits = []string{
	"$JS.API.STREAM.CREATE.>",
	"$JS.API.STREAM.UPDATE.>",
}

// Permissions returns what identity may publish and subscribe to:
//   - subscribe: its inbox "_INBOX.<identity>.>"; a booth also its request
//     subjects "svc.<identity>.>" in queue group <identity> only, and the
//     discovery subjects micro answers ("$SRV.<verb>", "$SRV.<verb>.<identity>[.<id>]");
//   - publish: the request subject of every call the matrix grants it (a
//     bridge also those of the identities it acts for), "svc.trace.<identity>"
//     (a bridge also the trace subjects of those it acts for),
//     "$SRV.>" for a bridge (discovery), the DiscoverySubjects for an
//     operator granted discovery, the JetStream API to bind and read the
//     stores of its grants and the data subjects of its write grants, and
//     for a provisioner the API to create, update and look up every store
//     the matrix names; never the DeniedJetStream API, and never
//     DeniedStoreEdits unless it is the provisioner;
//   - a booth answers requests through allow_responses (one reply each).
func Permissions(m *matrix.Matrix, identity string) (*server.Permissions, error) {
	id, ok := m.Identity(identity)
	if !ok {
		return nil, fmt.Errorf("natsauth: unknown identity %q", identity)
	}
	trace, err := subjects.Trace(identity)
	if err != nil {
		return nil, fmt.Errorf("natsauth: %w", err)
	}
	sub := []string{InboxPrefix(identity) + ".>"}
	var pub []string
	if id.Kind == matrix.KindBooth {
		sub = append(sub,
			"svc."+identity+".> "+identity,
			"$SRV.*", "$SRV.*."+identity, "$SRV.*."+identity+".*")
	}
	calls, err := callSubjects(m, id)
	if err != nil {
		return nil, err
	}
	pub = append(pub, calls...)
	pub = append(pub, trace)
	for _, p := range id.ActsFor {
		// The bridge records the hops it makes for those it acts for.
		pub = append(pub, subjects.Prefix+".trace."+p)
	}
	if id.Kind == matrix.KindBridge {
		pub = append(pub, "$SRV.>")
	}
	if id.Discovery {
		pub = append(pub, DiscoverySubjects...)
	}
	pub = append(pub, jetStreamSubjects(id.JetStream)...)
	deny := slices.Clone(DeniedJetStream)
	if id.Provisioner {
		pub = append(pub, provisionSubjects(m)...)
	} else {
		deny = append(deny, DeniedStoreEdits...)
	}
	p := &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub, Deny: deny},
		Subscribe: &server.SubjectPermission{Allow: sub},
	}
	if id.Kind == matrix.KindBooth {
		p.Response = &server.ResponsePermission{MaxMsgs: 1, Expires: server.DEFAULT_ALLOW_RESPONSE_EXPIRATION}
	}
	return p, nil
}

// callSubjects returns the request subjects of every call id may make,
// itself or on behalf of those it acts for, sorted and without repeats.
func callSubjects(m *matrix.Matrix, id matrix.Identity) ([]string, error) {
	principals := append([]string{id.Name}, id.ActsFor...)
	var out []string
	for _, p := range principals {
		pid, _ := m.Identity(p)
		for svc, paths := range pid.Calls {
			for _, path := range paths {
				s, err := callSubject(svc, path)
				if err != nil {
					return nil, fmt.Errorf("natsauth: %s calls %s %s: %w", p, svc, path, err)
				}
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func callSubject(service, path string) (string, error) {
	if path == matrix.AllPaths {
		return subjects.ServiceWildcard(service)
	}
	return subjects.Request(service, path)
}

// provisionSubjects returns the JetStream API a provisioner uses: account
// info (to wait for JetStream), and looking up, creating and updating the
// stream behind every store of m. The rest of the API stays ungranted.
func provisionSubjects(m *matrix.Matrix) []string {
	out := []string{"$JS.API.INFO"}
	for _, g := range m.Stores() {
		s := g.Stream()
		out = append(out, "$JS.API.STREAM.INFO."+s, "$JS.API.STREAM.CREATE."+s, "$JS.API.STREAM.UPDATE."+s)
	}
	return out
}

// jetStreamSubjects returns the JetStream API and data subjects of grants:
// a read grant binds and reads the store, a write grant also publishes to
// its data subjects. No grant creates or updates a store.
func jetStreamSubjects(grants []matrix.Grant) []string {
	if len(grants) == 0 {
		return nil
	}
	out := []string{"$JS.API.INFO"}
	for _, g := range grants {
		s := g.Stream()
		api := func(op string) string { return "$JS.API." + op + "." + s }
		out = append(out,
			api("STREAM.INFO"), api("STREAM.MSG.GET"),
			api("DIRECT.GET"), api("DIRECT.GET")+".>",
			api("CONSUMER.CREATE"), api("CONSUMER.CREATE")+".>", api("CONSUMER.DURABLE.CREATE")+".*",
			api("CONSUMER.INFO")+".*", api("CONSUMER.DELETE")+".*", api("CONSUMER.MSG.NEXT")+".*",
			api("CONSUMER.NAMES"), api("CONSUMER.LIST"),
			"$JS.ACK."+s+".>", "$JS.FC."+s+".>",
		)
		if g.Access == matrix.AccessWrite {
			out = append(out, g.DataSubjects()...)
		}
	}
	return out
}
