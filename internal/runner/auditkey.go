package runner

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"

	"github.com/hms-svc/hms-svc/internal/booths"
)

// auditKey reads audit-log's key from path, or makes a random one (and says
// what that costs) when path is empty.
func auditKey(path string, log *slog.Logger) ([]byte, error) {
	if path == "" {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		log.Warn("no --audit-key-file: audit-log hashes SSNs with a random key made at start; " +
			"hashes will not match those of earlier runs or other instances")
		return key, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: audit key file: %w", ErrConfig, err)
	}
	key := bytes.TrimSpace(data)
	if len(key) < booths.MinAuditKeyLen {
		return nil, fmt.Errorf("%w: audit key file %s holds %d bytes; at least %d are required",
			ErrConfig, path, len(key), booths.MinAuditKeyLen)
	}
	return key, nil
}
