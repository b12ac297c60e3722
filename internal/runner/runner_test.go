package runner_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/runner"
	"github.com/hms-svc/hms-svc/internal/sidecar"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

var feeTable = filepath.Join("..", "..", "deployments", "fees.yaml")

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// discovered returns the services that answer $SRV.INFO, with their info.
func discovered(t *testing.T, nc *nats.Conn, wait time.Duration) map[string]micro.Info {
	t.Helper()
	var mu sync.Mutex
	got := map[string]micro.Info{}
	inbox := nats.NewInbox()
	sub, err := nc.Subscribe(inbox, func(m *nats.Msg) {
		var info micro.Info
		if json.Unmarshal(m.Data, &info) == nil {
			mu.Lock()
			got[info.Name] = info
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	// Ask again until every booth has answered: they may still be starting.
	natstest.CheckFor(t, wait, 20*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(got) < len(booths.Names) {
			if err := nc.PublishRequest("$SRV.INFO", inbox, nil); err != nil {
				return err
			}
			return fmt.Errorf("discovered %d services, want %d", len(got), len(booths.Names))
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	return got
}

// connNames returns the names of the clients connected to s.
func connNames(t *testing.T, s *server.Server) []string {
	t.Helper()
	cz, err := s.Connz(nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cz.Conns {
		if c.Name != setupConn {
			names = append(names, c.Name)
		}
	}
	slices.Sort(names)
	return names
}

func TestRunServesTheDemoBoothsAndDrains(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runner.Run(ctx, runner.Config{InsecureNoCredentials: true,
			NATSURL: s.ClientURL(), Demo: true, FeeTable: feeTable, InstanceName: "test-1", Logger: quiet(),
		})
	}()

	nc := natstest.Connect(t, s, nats.Name("test"))
	infos := discovered(t, nc, 5*time.Second)
	for _, name := range booths.Names {
		info, ok := infos[name]
		if !ok || info.Metadata["instance"] != "test-1" {
			t.Errorf("%s: discovered %v (%+v), want it with instance test-1", name, ok, info)
		}
	}
	wantConns := []string{"booth-runner/audit-log", "booth-runner/fee-calc", "booth-runner/license-printer", "booth-runner/payment", "test"}
	if got := connNames(t, s); !slices.Equal(got, wantConns) {
		t.Errorf("connections %v, want one per booth %v", got, wantConns)
	}

	client, err := rpc.NewClient(nc, rpc.WithAttemptTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var fee booths.FeeReply
	if err := client.Call(t.Context(), "fee-calc", "/calculate", booths.FeeRequest{LicenseType: "professional-engineer"}, &fee); err != nil || fee.Amount != 125 {
		t.Fatalf("fee %+v, %v; want 125", fee, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v after a clean stop, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return within 15 s of the stop")
	}
	natstest.CheckFor(t, 2*time.Second, 10*time.Millisecond, func() error {
		if got := connNames(t, s); !slices.Equal(got, []string{"test"}) {
			return fmt.Errorf("connections after stop %v, want only the test's", got)
		}
		return nil
	})
	err = client.Call(t.Context(), "fee-calc", "/calculate", booths.FeeRequest{LicenseType: "professional-engineer"}, nil)
	if !errors.Is(err, rpc.ErrNoInstance) {
		t.Errorf("call after stop: %v, want no instance", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       runner.Config
		wantInErr string
	}{
		{"demo", runner.Config{InsecureNoCredentials: true, Demo: true}, ""},
		{"two booths", runner.Config{InsecureNoCredentials: true, Booths: []string{"payment", "audit-log"}}, ""},
		{"nothing", runner.Config{InsecureNoCredentials: true}, "give --demo, --booth NAME (one of fee-calc, payment"},
		{"sidecar with demo", runner.Config{InsecureNoCredentials: true, Demo: true, Identity: "clerk", Sidecar: &sidecar.Config{}}, "do not combine it with --demo"},
		{"sidecar without identity", runner.Config{InsecureNoCredentials: true, Sidecar: &sidecar.Config{}}, "--sidecar needs --identity"},
		{"identity without sidecar", runner.Config{InsecureNoCredentials: true, Demo: true, Identity: "clerk"}, "--identity only applies with --sidecar"},
		{"sidecar without an app", runner.Config{InsecureNoCredentials: true, Identity: "clerk", Sidecar: &sidecar.Config{}}, "--app-url is required"},
		{"unknown", runner.Config{InsecureNoCredentials: true, Booths: []string{"fee-calc", "astrologer"}}, `unknown booth "astrologer": known booths are fee-calc, payment, license-printer, audit-log`},
		{"twice", runner.Config{InsecureNoCredentials: true, Booths: []string{"payment", "payment"}}, `"payment" is given twice`},
		{"demo and booth", runner.Config{InsecureNoCredentials: true, Demo: true, Booths: []string{"payment"}}, "do not combine"},
		{"negative drain", runner.Config{InsecureNoCredentials: true, Demo: true, DrainTimeout: -time.Second}, "timeouts must be positive"},
		{"negative flush", runner.Config{InsecureNoCredentials: true, Demo: true, FlushTimeout: -time.Second}, "flush timeouts must be positive"},
		{"three replicas", runner.Config{InsecureNoCredentials: true, Demo: true, Replicas: 3}, ""},
		{"too many replicas", runner.Config{InsecureNoCredentials: true, Demo: true, Replicas: 6}, "--replicas must be 1 to 5"},
		{"negative replicas", runner.Config{InsecureNoCredentials: true, Demo: true, Replicas: -1}, "--replicas must be 1 to 5"},
		{"metrics on loopback", runner.Config{InsecureNoCredentials: true, Demo: true, MetricsListen: "127.0.0.1:9464"}, ""},
		{"public metrics", runner.Config{InsecureNoCredentials: true, Demo: true, MetricsListen: "0.0.0.0:9464"}, `--metrics-listen "0.0.0.0:9464" refused: /metrics has no authentication`},
		{"metrics on every interface", runner.Config{InsecureNoCredentials: true, Demo: true, MetricsListen: ":9464"}, "refused"},
		{"bad metrics address", runner.Config{InsecureNoCredentials: true, Demo: true, MetricsListen: "9464"}, `--metrics-listen "9464"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantInErr == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, runner.ErrConfig) || !strings.Contains(err.Error(), tc.wantInErr) {
				t.Errorf("got %v, want ErrConfig saying %q", err, tc.wantInErr)
			}
		})
	}
}

func TestStartFailureLeavesNothingRunning(t *testing.T) {
	s := startServer(t)
	badFees := filepath.Join(t.TempDir(), "fees.yaml")
	if err := os.WriteFile(badFees, []byte("currency: USD\nfees: {plumber: -1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := runner.Start(t.Context(), runner.Config{InsecureNoCredentials: true,
		NATSURL: s.ClientURL(), Booths: []string{"payment", "fee-calc"}, FeeTable: badFees, Logger: quiet(),
	})
	if err == nil || !strings.Contains(err.Error(), badFees) {
		t.Fatalf("got %v, want an error naming %s", err, badFees)
	}
	natstest.CheckFor(t, 2*time.Second, 10*time.Millisecond, func() error {
		if got := connNames(t, s); len(got) > 0 {
			return fmt.Errorf("connections %v left open", got)
		}
		return nil
	})
}

func TestAuditKeyFile(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	good := filepath.Join(dir, "good")
	key := "0123456789abcdef-audit"
	if err := os.WriteFile(short, []byte("tiny\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := runner.Config{InsecureNoCredentials: true, NATSURL: s.ClientURL(), Booths: []string{"audit-log"}, Logger: quiet()}

	for _, tc := range []struct{ name, path, wantInErr string }{
		{"missing file", filepath.Join(dir, "none"), "no such file"},
		{"short key", short, "holds 4 bytes; at least 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.AuditKeyFile = tc.path
			_, err := runner.Start(t.Context(), cfg)
			if !errors.Is(err, runner.ErrConfig) || !strings.Contains(err.Error(), tc.wantInErr) {
				t.Errorf("got %v, want ErrConfig saying %q", err, tc.wantInErr)
			}
		})
	}

	t.Run("the file's key hashes the SSN", func(t *testing.T) {
		cfg := base
		cfg.AuditKeyFile = good
		r, err := runner.Start(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Stop(context.Background()) })
		nc := natstest.Connect(t, s)
		client, err := rpc.NewClient(nc, rpc.WithAttemptTimeout(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var rep booths.RecordReply
		req := booths.RecordRequest{User: "123-45-6789", Fee: 125, DocID: "doc-1"}
		if err := client.Call(t.Context(), "audit-log", "/record", req, &rep); err != nil {
			t.Fatal(err)
		}
		js, _ := jetstream.New(nc)
		st, err := js.Stream(t.Context(), booths.AuditStream)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := st.GetMsg(t.Context(), rep.Seq)
		if err != nil {
			t.Fatal(err)
		}
		var rec booths.AuditRecord
		if err := json.Unmarshal(msg.Data, &rec); err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte("123456789"))
		if want := hex.EncodeToString(mac.Sum(nil)); rec.UserHash != want {
			t.Errorf("user_hash %s, want the HMAC under the file's key %s", rec.UserHash, want)
		}
	})
}

// --replicas is what the booths expect of their stores: a store keeping
// fewer is reported, once per store, and left as the provisioner made it.
func TestReplicasAreExpectedNotChanged(t *testing.T) {
	s := startServer(t)
	var logs bytes.Buffer
	r, err := runner.Start(t.Context(), runner.Config{InsecureNoCredentials: true,
		NATSURL: s.ClientURL(), Booths: []string{"audit-log", "payment"}, Replicas: 3,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	if got := strings.Count(logs.String(), "store keeps fewer replicas than expected"); got != 3 {
		t.Errorf("%d warnings, want 3 (AUDIT, KV_PAYMENTS, KV_SVC_DEDUP):\n%s", got, logs.String())
	}
	js, _ := jetstream.New(natstest.Connect(t, s))
	for _, stream := range []string{booths.AuditStream, "KV_" + booths.PaymentsBucket} {
		st, err := js.Stream(t.Context(), stream)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.CachedInfo().Config.Replicas; got != 1 {
			t.Errorf("%s has %d replicas, want the provisioner's 1", stream, got)
		}
	}
}

// Each booth gets its own BoothOptions (its call verifier); a booth whose
// options cannot be made is not started, and nothing is left running.
func TestBoothOptionsReachEachBooth(t *testing.T) {
	s := startServer(t)
	var mu sync.Mutex
	seen := map[string]int{}
	cfg := runner.Config{InsecureNoCredentials: true, NATSURL: s.ClientURL(), Booths: []string{"payment", "audit-log"}, Logger: quiet(),
		BoothOptions: func(booth string) ([]rpc.BoothOption, error) {
			return []rpc.BoothOption{rpc.WithBoothMiddleware(func(next rpc.Endpoint) rpc.Endpoint {
				return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
					mu.Lock()
					seen[booth]++
					mu.Unlock()
					return next(ctx, req)
				}
			})}, nil
		}}
	r, err := runner.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	client, err := rpc.NewClient(natstest.Connect(t, s), rpc.WithAttemptTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Call(t.Context(), "payment", "/charge", booths.ChargeRequest{Amount: 125, Currency: "USD"}, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if seen["payment"] != 1 || seen["audit-log"] != 0 {
		t.Errorf("middleware runs %v, want one in payment's", seen)
	}
	mu.Unlock()

	t.Run("options that fail", func(t *testing.T) {
		s := startServer(t)
		cfg := runner.Config{InsecureNoCredentials: true, NATSURL: s.ClientURL(), Booths: []string{"fee-calc", "payment"}, FeeTable: feeTable, Logger: quiet(),
			BoothOptions: func(booth string) ([]rpc.BoothOption, error) {
				if booth == "payment" {
					return nil, errors.New("no verifier key")
				}
				return nil, nil
			}}
		_, err := runner.Start(t.Context(), cfg)
		if err == nil || !strings.Contains(err.Error(), "options of payment: no verifier key") {
			t.Errorf("got %v, want it to name payment's options", err)
		}
		natstest.CheckFor(t, 2*time.Second, 10*time.Millisecond, func() error {
			if got := connNames(t, s); len(got) > 0 {
				return fmt.Errorf("connections %v left open", got)
			}
			return nil
		})
	})
}
