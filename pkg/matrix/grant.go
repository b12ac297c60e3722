package matrix

import (
	"fmt"
	"strings"
)

// Store is the kind of JetStream store a Grant names.
type Store string

// The JetStream stores a grant may name.
const (
	StoreKV     Store = "kv"
	StoreObject Store = "object_store"
	StoreStream Store = "stream"
)

// Access is what a Grant allows on its store.
type Access string

// Access levels. No level allows creating, updating, purging or deleting a
// stream or deleting its messages: only a Provisioner creates and updates
// stores, and nothing in the mesh may purge or delete one through the
// JetStream API.
const (
	// AccessRead allows looking a store up and reading it (stream info,
	// message get, consumers and their acks).
	AccessRead Access = "read"
	// AccessWrite adds publishing to it (for a stream, to the grant's
	// Subjects only): appending, as the store's own rules allow.
	AccessWrite Access = "write"
)

// Grant lets an identity use one JetStream store.
type Grant struct {
	Store  Store
	Name   string
	Access Access
	// Subjects are the subjects a write grant on a stream publishes to
	// (none: it reads the stream but publishes nothing; every identity
	// publishes its own trace events anyway).
	Subjects []string
}

// Stream returns the name of the JetStream stream behind the store:
// "KV_<name>" for a key-value bucket, "OBJ_<name>" for an object store.
func (g Grant) Stream() string {
	switch g.Store {
	case StoreKV:
		return "KV_" + g.Name
	case StoreObject:
		return "OBJ_" + g.Name
	}
	return g.Name
}

// DataSubjects returns the subjects a write grant publishes to.
func (g Grant) DataSubjects() []string {
	switch g.Store {
	case StoreKV:
		return []string{"$KV." + g.Name + ".>"}
	case StoreObject:
		return []string{"$O." + g.Name + ".>"}
	}
	return g.Subjects
}

// validStoreName checks a bucket or stream name: letters, digits, '-', '_'.
func validStoreName(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("store name %q must be 1-64 characters", s)
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("store name %q may hold only letters, digits, '-' and '_'", s)
		}
	}
	return nil
}

// validStreamSubject checks a subject a stream grant publishes to: well
// formed, outside the mesh's request namespace and NATS's own "$" subjects.
func validStreamSubject(s string) error {
	if s == "" {
		return fmt.Errorf("empty subject")
	}
	toks := strings.Split(s, ".")
	for i, t := range toks {
		switch {
		case t == "":
			return fmt.Errorf("subject %q has an empty token", s)
		case strings.ContainsAny(t, " \t\r\n"):
			return fmt.Errorf("subject %q holds whitespace", s)
		case t == ">" && i != len(toks)-1:
			return fmt.Errorf("subject %q: '>' must be the last token", s)
		case strings.ContainsAny(t, "*>") && len(t) > 1:
			return fmt.Errorf("subject %q: a wildcard must be a whole token", s)
		}
	}
	switch {
	case strings.HasPrefix(toks[0], "$"):
		return fmt.Errorf("subject %q: '$' subjects belong to NATS", s)
	case toks[0] == "svc" || toks[0] == "*" || toks[0] == ">":
		return fmt.Errorf("subject %q would reach mesh request subjects; grant calls instead", s)
	case toks[0] == "_INBOX":
		return fmt.Errorf("subject %q is an inbox", s)
	}
	return nil
}
