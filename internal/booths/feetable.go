package booths

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"

	"go.yaml.in/yaml/v3"
)

// FeeTable is fee-calc's table: one fee per license type, in one currency.
type FeeTable struct {
	// Currency is an ISO 4217 code ("USD").
	Currency string `yaml:"currency"`
	// Fees maps a license type ("professional-engineer") to its fee in
	// whole or decimal units of Currency (125).
	Fees map[string]float64 `yaml:"fees"`
}

// ErrBadFeeTable is matched by LoadFeeTable's error for a table that cannot
// be used.
var ErrBadFeeTable = errors.New("bad fee table")

var (
	currencyPattern    = regexp.MustCompile(`^[A-Z]{3}$`)
	licenseTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
)

// LoadFeeTable reads and checks the YAML fee table at path. Its error names
// the file and what is wrong with it (an unknown key, a bad currency, a fee
// that is not positive).
func LoadFeeTable(path string) (*FeeTable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrBadFeeTable, path, err)
	}
	t, err := parseFeeTable(data)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrBadFeeTable, path, err)
	}
	return t, nil
}

func parseFeeTable(data []byte) (*FeeTable, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var t FeeTable
	if err := dec.Decode(&t); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("file is empty")
		}
		return nil, err
	}
	if !currencyPattern.MatchString(t.Currency) {
		return nil, fmt.Errorf("currency must be a 3-letter upper-case code such as USD, got %q", t.Currency)
	}
	if len(t.Fees) == 0 {
		return nil, errors.New("fees: at least one license type is required")
	}
	for typ, fee := range t.Fees {
		if !licenseTypePattern.MatchString(typ) {
			return nil, fmt.Errorf("fees: license type %q must be lower-case letters, digits and '-'", typ)
		}
		if !validAmount(fee) {
			return nil, fmt.Errorf("fees: %s: fee must be positive with at most 2 decimals, got %v", typ, fee)
		}
	}
	return &t, nil
}

// Types returns the license types of the table, sorted.
func (t *FeeTable) Types() []string {
	types := make([]string, 0, len(t.Fees))
	for typ := range t.Fees {
		types = append(types, typ)
	}
	slices.Sort(types)
	return types
}

// maxAmount bounds a fee or a charge: far above any license fee, well within
// the exact range of a float64 in cents.
const maxAmount = 1_000_000_000

// validAmount reports whether a is a positive amount of money with at most 2
// decimals.
func validAmount(a float64) bool {
	if math.IsNaN(a) || a <= 0 || a > maxAmount {
		return false
	}
	cents := a * 100
	return math.Abs(cents-math.Round(cents)) < 1e-6
}
