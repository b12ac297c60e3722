package pdftest

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

func init() { api.DisableConfigDir() }

// Text validates pdf with a PDF reader and returns the content streams of
// its pages, decompressed; it fails t when pdf is not a valid PDF.
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	conf := model.NewDefaultConfiguration()
	if err := api.Validate(bytes.NewReader(pdf), conf); err != nil {
		t.Fatalf("not a valid PDF: %v", err)
	}
	var text strings.Builder
	err := api.ExtractContent(bytes.NewReader(pdf), nil, func(r io.Reader, _ int) error {
		_, err := io.Copy(&text, r)
		return err
	}, conf)
	if err != nil {
		t.Fatalf("reading PDF content: %v", err)
	}
	return text.String()
}
