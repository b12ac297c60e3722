package booths_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

func TestFeeCalc(t *testing.T) {
	s := natstest.Start(t)
	startBooth(t, s, "fee-calc", testConfig())
	client := newClient(t, s)

	t.Run("professional engineer costs 125 USD", func(t *testing.T) {
		var got booths.FeeReply
		err := client.Call(t.Context(), "fee-calc", "/calculate",
			map[string]string{"license_type": "professional-engineer", "name": "Avery Johnson"}, &got)
		if err != nil {
			t.Fatal(err)
		}
		want := booths.FeeReply{LicenseType: "professional-engineer", Amount: 125, Currency: "USD"}
		if got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})

	for _, tc := range []struct {
		name, licenseType string
		wantInMsg         []string
	}{
		{"unknown type", "astronaut", []string{`"astronaut"`, "professional-engineer", "architect"}},
		{"missing type", "", []string{"license_type is required", "professional-engineer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := client.Call(t.Context(), "fee-calc", "/calculate", booths.FeeRequest{LicenseType: tc.licenseType}, nil)
			if got := rpc.CodeOf(err); got != rpc.CodeBadRequest {
				t.Fatalf("got code %v (%v), want 400", got, err)
			}
			for _, want := range tc.wantInMsg {
				if !strings.Contains(rpc.MessageOf(err), want) {
					t.Errorf("message %q does not name %s", rpc.MessageOf(err), want)
				}
			}
		})
	}
}

func TestFeeCalcRefusesBadFeeTable(t *testing.T) {
	s := natstest.Start(t)
	nc := natstest.Connect(t, s)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, yaml, wantInErr string
	}{
		{"missing file", "", "no such file"},
		{"not YAML", "currency: [USD\n", "yaml"},
		{"unknown key", "currency: USD\nfees: {plumber: 75}\nfee: {}\n", "field fee not found"},
		{"bad currency", "currency: dollars\nfees: {plumber: 75}\n", "currency must be a 3-letter"},
		{"no fees", "currency: USD\n", "at least one license type"},
		{"negative fee", "currency: USD\nfees: {plumber: -5}\n", "plumber: fee must be positive"},
		{"fractional cents", "currency: USD\nfees: {plumber: 7.505}\n", "at most 2 decimals"},
		{"bad type name", "currency: USD\nfees: {Plumber: 75}\n", `"Plumber"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if tc.yaml != "" {
				if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			b, err := booths.Start(t.Context(), nc, "fee-calc", booths.Config{FeeTable: path})
			if err == nil {
				_ = b.Stop(t.Context())
				t.Fatal("fee-calc started with a bad fee table")
			}
			if !errors.Is(err, booths.ErrBadFeeTable) || !strings.Contains(err.Error(), path) ||
				!strings.Contains(err.Error(), tc.wantInErr) {
				t.Errorf("got error %q, want ErrBadFeeTable naming %s and %q", err, path, tc.wantInErr)
			}
		})
	}
}

func TestStartUnknownBooth(t *testing.T) {
	s := natstest.Start(t)
	_, err := booths.Start(t.Context(), natstest.Connect(t, s), "astrologer", testConfig())
	if !errors.Is(err, booths.ErrUnknownBooth) || !strings.Contains(err.Error(), "fee-calc, payment") {
		t.Errorf("got %v, want ErrUnknownBooth listing the booths", err)
	}
}
