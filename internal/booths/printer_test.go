package booths_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pdftest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

func TestPrinterStoresAPDFLicense(t *testing.T) {
	s := startServer(t)
	startBooth(t, s, "license-printer", testConfig())
	client := newClient(t, s)

	var got booths.GenerateReply
	err := client.Call(t.Context(), "license-printer", "/generate", map[string]string{
		"name": "Avery Johnson", "ssn": "123-45-6789", "license_type": "professional-engineer",
	}, &got)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || got.URL != "/v1/licenses/"+got.ID {
		t.Fatalf("got %+v, want an id and its /v1/licenses/ URL", got)
	}

	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := booths.OpenLicense(t.Context(), js, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	pdf, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("object starts with %q, want %%PDF-", pdf[:min(len(pdf), 8)])
	}
	info, err := obj.Info()
	if err != nil || info.Headers.Get("Content-Type") != booths.LicenseContentType || int(info.Size) != len(pdf) {
		t.Errorf("object info %+v (%v), want a PDF of %d bytes", info, err, len(pdf))
	}
	text := pdftest.Text(t, pdf)
	for _, want := range []string{"(Avery Johnson)", "(Professional Engineer)", "(professional-engineer)", "(" + got.ID + ")", "(PE-"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %s", want)
		}
	}
	for _, secret := range []string{"123-45-6789", "123456789"} {
		if strings.Contains(text, secret) || bytes.Contains(pdf, []byte(secret)) {
			t.Errorf("PDF holds the SSN part %s", secret)
		}
	}
}

func TestPrinterRefusesBadRequests(t *testing.T) {
	s := startServer(t)
	startBooth(t, s, "license-printer", testConfig())
	client := newClient(t, s)
	for _, tc := range []struct {
		name, body, wantInMsg string
	}{
		{"no name", `{"license_type":"professional-engineer"}`, "name is required"},
		{"blank name", `{"name":"  ","license_type":"professional-engineer"}`, "name is required"},
		{"no license type", `{"name":"Avery Johnson"}`, "license_type is required"},
		{"bad license type", `{"name":"Avery Johnson","license_type":"../x"}`, `"../x"`},
		{"control character", `{"name":"Avery\u0007","license_type":"plumber"}`, "control character"},
		{"unprintable script", `{"name":"Авери","license_type":"plumber"}`, "cannot print"},
		{"too long", `{"name":"` + strings.Repeat("a", 101) + `","license_type":"plumber"}`, "at most 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.CallRaw(t.Context(), "license-printer", "/generate", []byte(tc.body))
			if got := rpc.CodeOf(err); got != rpc.CodeBadRequest || !strings.Contains(rpc.MessageOf(err), tc.wantInMsg) {
				t.Errorf("got %v, want 400 saying %q", err, tc.wantInMsg)
			}
		})
	}
	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	store, err := js.ObjectStore(t.Context(), booths.LicenseBucket)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := store.Status(t.Context()); err != nil || st.Size() != 0 {
		t.Errorf("store holds %d bytes after refused requests (%v), want 0", st.Size(), err)
	}
}

func TestOpenLicenseErrors(t *testing.T) {
	s := startServer(t)
	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("before any license", func(t *testing.T) {
		_, err := booths.OpenLicense(t.Context(), js, "0b1c")
		if got := rpc.CodeOf(err); got != rpc.CodeNotFound {
			t.Errorf("got %v, want 404", err)
		}
	})
	startBooth(t, s, "license-printer", testConfig())
	for _, tc := range []struct {
		name, id string
		want     rpc.Code
	}{
		{"unknown id", "00000000-0000-0000-0000-000000000000", rpc.CodeNotFound},
		{"wildcard", "*", rpc.CodeBadRequest},
		{"subject token", "a.b", rpc.CodeBadRequest},
		{"path", "../etc", rpc.CodeBadRequest},
		{"empty", "", rpc.CodeBadRequest},
		{"too long", strings.Repeat("a", 65), rpc.CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := booths.OpenLicense(t.Context(), js, tc.id)
			if got := rpc.CodeOf(err); got != tc.want {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}
