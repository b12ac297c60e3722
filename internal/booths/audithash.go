package booths

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// ChainHash returns the hex SHA-256 of r's canonical encoding: r as
// encoding/json writes it (fields in declaration order, PrevHash included)
// with Hash left out. audit-log stores it in Hash; a verifier recomputes it
// from a stored record to find one that was altered. A field added to
// AuditRecord later must be omitempty, so that older records hash as they
// did. It returns "" for a record that cannot be encoded.
func (r AuditRecord) ChainHash() string {
	r.Hash = ""
	data, err := json.Marshal(r)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
