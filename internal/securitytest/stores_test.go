package securitytest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// storeVerb is one use of a store through JetStream: the request an
// identity sends for it, and whether the matrix lets that identity make it.
type storeVerb struct {
	name    string
	request func(st stores.Store, identity string) (subject string, body []byte)
	// allowed is the rule the permissions must implement, from the
	// identity's grant on the store (nil for none).
	allowed func(id matrix.Identity, g *matrix.Grant, subject string) bool
}

func api(op, body string) func(stores.Store, string) (string, []byte) {
	return func(st stores.Store, _ string) (string, []byte) {
		return "$JS.API." + op + "." + st.Stream(), []byte(strings.ReplaceAll(body, "STREAM", st.Stream()))
	}
}

// declaredConfig sends the store's own declared config: harmless where
// allowed.
func declaredConfig(op string) func(stores.Store, string) (string, []byte) {
	return func(st stores.Store, _ string) (string, []byte) {
		body, _ := json.Marshal(st.Config)
		return "$JS.API.STREAM." + op + "." + st.Stream(), body
	}
}

// dataSubject is a subject of the store an identity would write to: its
// first subject, with a wildcard made a token naming the identity.
func dataSubject(st stores.Store, identity string) (string, []byte) {
	s := st.Config.Subjects[0]
	if rest, ok := strings.CutSuffix(s, ">"); ok {
		s = rest + "perm." + identity
	}
	return strings.ReplaceAll(s, "*", "perm"), []byte(`{"permission":"test"}`)
}

var (
	provisionerOnly = func(id matrix.Identity, _ *matrix.Grant, _ string) bool { return id.Provisioner }
	nobody          = func(matrix.Identity, *matrix.Grant, string) bool { return false }
	anyGrant        = func(_ matrix.Identity, g *matrix.Grant, _ string) bool { return g != nil }
)

// storeVerbs is every JetStream API verb on a store the mesh grants or
// must refuse.
var storeVerbs = []storeVerb{
	{"create", declaredConfig("CREATE"), provisionerOnly},
	{"update", declaredConfig("UPDATE"), provisionerOnly},
	{"delete", api("STREAM.DELETE", ``), nobody},
	{"purge", api("STREAM.PURGE", `{"keep":1000000}`), nobody},
	{"msg delete", api("STREAM.MSG.DELETE", `{"seq":1000000}`), nobody},
	{"info", api("STREAM.INFO", ``), func(id matrix.Identity, g *matrix.Grant, _ string) bool { return id.Provisioner || g != nil }},
	{"consumer create", api("CONSUMER.CREATE", `{"stream_name":"STREAM","config":{"ack_policy":"none","deliver_policy":"new","inactive_threshold":5000000000,"mem_storage":true}}`), anyGrant},
	{"direct get", api("DIRECT.GET", `{"seq":1}`), anyGrant},
	{"publish", dataSubject, func(_ matrix.Identity, g *matrix.Grant, subject string) bool {
		if g == nil || g.Access != matrix.AccessWrite {
			return false
		}
		for _, allowed := range g.DataSubjects() {
			if server.SubjectMatchesFilter(subject, allowed) {
				return true
			}
		}
		return false
	}},
}

// grantOn returns identity's grant on the stream, or nil.
func grantOn(id matrix.Identity, stream string) *matrix.Grant {
	for _, g := range id.JetStream {
		if g.Stream() == stream {
			return &g
		}
	}
	return nil
}

var violationSubject = regexp.MustCompile(`Permissions Violation for Publish to "([^"]+)"`)

// Every identity x every declared store x every JetStream API verb, against
// a real server with the permissions generated from the demo matrix: a
// request gets an answer from JetStream exactly when the matrix allows it
// (the provisioner creates, updates and looks up every store; a grant reads
// its store; a write grant appends to its subjects; nobody deletes or
// purges anything), and each other request is refused by the server as a
// permissions violation.
func TestStorePermissionMatrix(t *testing.T) {
	s := startMesh(t)
	provisionStores(t, s)
	decl, err := stores.Declare(stores.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type combo struct {
		identity, store, verb, subject string
		want                           bool
	}
	var (
		mu       sync.Mutex
		combos   []combo
		answered = map[int]bool{}
		refused  = map[string]map[string]bool{} // identity -> refused subjects
	)
	for _, identity := range demo.Identities() {
		id, _ := demo.Identity(identity)
		refused[identity] = map[string]bool{}
		nc := connectAs(t, s, identity, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if m := violationSubject.FindStringSubmatch(err.Error()); m != nil {
				mu.Lock()
				refused[identity][m[1]] = true
				mu.Unlock()
			}
		}))
		prefix := "_INBOX." + identity + ".perm."
		if _, err := nc.Subscribe(prefix+"*", func(m *nats.Msg) {
			n, _ := strconv.Atoi(strings.TrimPrefix(m.Subject, prefix))
			mu.Lock()
			answered[n] = true
			mu.Unlock()
		}); err != nil {
			t.Fatal(err)
		}
		for _, st := range decl {
			g := grantOn(id, st.Stream())
			for _, v := range storeVerbs {
				subject, body := v.request(st, identity)
				mu.Lock()
				n := len(combos)
				combos = append(combos, combo{identity, st.Stream(), v.name, subject, v.allowed(id, g, subject)})
				mu.Unlock()
				if err := nc.PublishRequest(subject, prefix+strconv.Itoa(n), body); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	// Every request ends one way or the other: an answer or a refusal.
	natstest.CheckFor(t, 20*time.Second, 10*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		open := 0
		for n, c := range combos {
			if !answered[n] && !refused[c.identity][c.subject] {
				open++
			}
		}
		if open > 0 {
			return fmt.Errorf("%d of %d requests neither answered nor refused", open, len(combos))
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	var tl tally
	for n, c := range combos {
		got := answered[n]
		if got && refused[c.identity][c.subject] {
			t.Errorf("%s %s on %s was both answered and refused", c.identity, c.verb, c.store)
		}
		tl.add(c.want, got, fmt.Sprintf("%s %s on %s (%s)", c.identity, c.verb, c.store, c.subject))
	}
	t.Logf("%d combinations (%d identities x %d stores x %d verbs)", len(combos), len(demo.Identities()), len(decl), len(storeVerbs))
	tl.check(t, "stores")
}
