package subjects_test

import (
	"testing"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

func BenchmarkRequest(b *testing.B) {
	benchmarks := []struct{ name, service, path string }{
		{"one segment", "fee-calc", "/calculate"},
		{"four segments", "license-printer", "/v2/licenses/pe/generate"},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := subjects.Request(bm.service, bm.path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := subjects.Parse("svc.fee-calc.calculate"); err != nil {
			b.Fatal(err)
		}
	}
}
