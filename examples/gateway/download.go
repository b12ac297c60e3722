package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
)

// maxLicense bounds a license PDF downloaded from the bridge.
const maxLicense = 16 << 20

// pdfMagic starts every PDF file.
var pdfMagic = []byte("%PDF")

// DownloadLicense fetches the license PDF at url through the bridge and
// writes it to path. It returns the PDF's size; a reply that is not a PDF is
// an error and writes nothing.
func DownloadLicense(ctx context.Context, client *http.Client, url, path string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("downloading the license: %w", err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxLicense+1))
	switch {
	case err != nil:
		return 0, fmt.Errorf("downloading the license: %w", err)
	case res.StatusCode != http.StatusOK:
		return 0, fmt.Errorf("downloading the license: %s: %s", res.Status, bytes.TrimSpace(data))
	case len(data) > maxLicense:
		return 0, fmt.Errorf("downloading the license: larger than %d bytes", maxLicense)
	case res.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(data, pdfMagic):
		return 0, errors.New("downloading the license: the reply is not a PDF")
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return 0, fmt.Errorf("saving the license: %w", err)
	}
	return len(data), nil
}
