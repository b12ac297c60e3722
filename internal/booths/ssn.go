package booths

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// ssnPattern is the shape of an SSN: 123-45-6789 or 123456789.
var ssnPattern = regexp.MustCompile(`^(\d{3}-\d{2}-\d{4}|\d{9})$`)

// ssnInside finds a dashed SSN inside another value (a UUID never matches:
// it has no 2-character group).
var ssnInside = regexp.MustCompile(`\d{3}-\d{2}-\d{4}`)

// maskedSSN is what audit-log keeps of an SSN for people: its last 4 digits.
func maskedSSN(ssn string) string {
	d := ssnDigits(ssn)
	return "***-**-" + d[len(d)-4:]
}

// ssnHash is the hex HMAC-SHA256 of an SSN's 9 digits under key: equal SSNs
// hash equally under one key (so inspectors can match records of one
// person) and the hash cannot be reversed without the key.
func ssnHash(key []byte, ssn string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ssnDigits(ssn)))
	return hex.EncodeToString(m.Sum(nil))
}

func ssnDigits(ssn string) string { return strings.ReplaceAll(ssn, "-", "") }
