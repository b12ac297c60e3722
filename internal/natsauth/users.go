package natsauth

import (
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// Users returns one NKey user per identity of m, in the matrix's order, with
// the Permissions of that identity. keys maps identity to public NKey; every
// identity needs one, and no two may share one.
func Users(m *matrix.Matrix, keys map[string]string) ([]*server.NkeyUser, error) {
	owner := map[string]string{}
	var users []*server.NkeyUser
	for _, id := range m.Identities() {
		pub, ok := keys[id]
		if !ok || pub == "" {
			return nil, fmt.Errorf("natsauth: no public NKey for identity %q (run meshctl init)", id)
		}
		if !nkeys.IsValidPublicUserKey(pub) {
			return nil, fmt.Errorf("natsauth: key of %q is not a public user NKey", id)
		}
		if other, dup := owner[pub]; dup {
			return nil, fmt.Errorf("natsauth: identities %q and %q share one NKey", other, id)
		}
		owner[pub] = id
		perms, err := Permissions(m, id)
		if err != nil {
			return nil, err
		}
		users = append(users, &server.NkeyUser{Nkey: pub, Permissions: perms})
	}
	for id := range keys {
		if _, ok := m.Identity(id); !ok {
			return nil, fmt.Errorf("natsauth: key for %q, which the matrix does not know", id)
		}
	}
	return users, nil
}
