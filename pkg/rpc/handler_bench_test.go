package rpc

import "testing"

// BenchmarkHandleDecode measures the strict decoding every typed handler's
// request goes through (one JSON value, nothing after it).
func BenchmarkHandleDecode(b *testing.B) {
	type request struct {
		Name        string `json:"name"`
		SSN         string `json:"ssn"`
		LicenseType string `json:"license_type"`
	}
	body := []byte(`{"name":"Avery Johnson","ssn":"123-45-6789","license_type":"professional-engineer"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var req request
		if err := decodeBody(body, &req); err != nil {
			b.Fatal(err)
		}
	}
}
