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
	multi := make(map[string][]string, len(keys))
	for id, k := range keys {
		multi[id] = []string{k}
	}
	users, _, err := usersOf(m, multi, nil)
	return users, err
}

// usersOf returns an NKey user for every key of every identity of m that is
// not revoked (two during a rotation, with the same permissions), and the
// identity of each key, revoked or not. Every identity needs a key, and no
// two may share one.
func usersOf(m *matrix.Matrix, keys map[string][]string, revoked map[string]bool) ([]*server.NkeyUser, map[string]string, error) {
	owner := map[string]string{}
	var users []*server.NkeyUser
	for _, id := range m.Identities() {
		if len(keys[id]) == 0 {
			return nil, nil, fmt.Errorf("natsauth: no public NKey for identity %q (run meshctl init)", id)
		}
		perms, err := Permissions(m, id)
		if err != nil {
			return nil, nil, err
		}
		for _, pub := range keys[id] {
			if !nkeys.IsValidPublicUserKey(pub) {
				return nil, nil, fmt.Errorf("natsauth: key of %q is not a public user NKey", id)
			}
			if other, dup := owner[pub]; dup {
				return nil, nil, fmt.Errorf("natsauth: identities %q and %q share one NKey", other, id)
			}
			owner[pub] = id
			if !revoked[id] {
				users = append(users, &server.NkeyUser{Nkey: pub, Permissions: perms})
			}
		}
	}
	for id := range keys {
		if _, ok := m.Identity(id); !ok {
			return nil, nil, fmt.Errorf("natsauth: key for %q, which the matrix does not know", id)
		}
	}
	return users, owner, nil
}
