package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its exit status: 0 when the license is issued, 1 when
// the flow fails, 2 for bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bridgeURL := fs.String("bridge", "", "bridge base URL (default http://127.0.0.1:8443 with --insecure-h2c, https://127.0.0.1:8443 otherwise)")
	h2c := fs.Bool("insecure-h2c", false, "speak cleartext HTTP/2 to a bridge on loopback")
	meshDir := fs.String("mesh-dir", ".mesh", "credentials folder (meshctl init): the CA and --identity's client certificate")
	identity := fs.String("identity", "gateway", "identity whose client certificate in --mesh-dir is presented to the bridge")
	cert := fs.String("cert", "", "PEM client certificate for the bridge (instead of --mesh-dir)")
	key := fs.String("key", "", "PEM private key of --cert")
	ca := fs.String("ca", "", "PEM CA that signed the bridge's certificate (instead of --mesh-dir)")
	save := fs.String("save-license", "", "download the license PDF through the bridge to this file")
	timeout := fs.Duration("timeout", 15*time.Second, "time the whole flow may take")
	traceWait := fs.Duration("trace-wait", 5*time.Second, "after the flow, wait this long at most for its trace to be stored, then print its sequence diagram (0: do not)")
	var a Applicant
	fs.StringVar(&a.Name, "name", "Avery Johnson", "applicant's name")
	fs.StringVar(&a.SSN, "ssn", "123-45-6789", "applicant's SSN")
	fs.StringVar(&a.LicenseType, "license-type", "professional-engineer", "license applied for")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, version())
		return 0
	}
	base, err := baseURL(*bridgeURL, *h2c)
	if err != nil {
		fmt.Fprintln(stderr, "gateway:", err)
		return 2
	}
	var client *http.Client
	if *h2c || *cert != "" || *key != "" || *ca != "" {
		client, err = newHTTPClient(*h2c, *cert, *key, *ca, *timeout)
	} else {
		client, err = meshClient(*meshDir, *identity, *timeout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "gateway:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	began := time.Now()
	issued, err := IssueLicense(ctx, client, base, a)
	if err != nil {
		fmt.Fprintln(stderr, "gateway: issuing the license:", err)
		return 1
	}
	fmt.Fprintf(stdout, "license: %s\nreceipt: %s\nfee:     %s %s\naudit:   %s\ntrace:   %s\ntook:    %v\n",
		issued.LicenseURL, issued.Receipt, issued.Fee, issued.Currency, issued.AuditID, issued.TraceID,
		time.Since(began).Round(time.Microsecond))
	if *save != "" {
		n, err := DownloadLicense(ctx, client, issued.LicenseURL, *save)
		if err != nil {
			fmt.Fprintln(stderr, "gateway:", err)
			return 1
		}
		fmt.Fprintf(stdout, "pdf:     %s (%d bytes, starts with %s)\n", *save, n, pdfMagic)
	}
	if *traceWait > 0 {
		ft, err := FetchTrace(ctx, client, base, issued.TraceID, *traceWait)
		if err != nil {
			fmt.Fprintln(stderr, "gateway: the flow's trace:", err)
			if ft == nil {
				return 1
			}
		}
		fmt.Fprintf(stdout, "\ntrace %s (%d hops, GET %s/v1/traces/%s):\n%s", ft.TraceID, len(ft.Events), base, ft.TraceID, ft.Mermaid)
		if err != nil {
			return 1
		}
	}
	return 0
}

// baseURL checks the --bridge URL against the transport, or picks the
// default one.
func baseURL(raw string, h2c bool) (string, error) {
	if raw == "" {
		if h2c {
			return "http://127.0.0.1:8443", nil
		}
		return "https://127.0.0.1:8443", nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--bridge %q: want scheme://host:port", raw)
	}
	switch {
	case h2c && u.Scheme != "http":
		return "", fmt.Errorf("--bridge %q: --insecure-h2c speaks http://", raw)
	case !h2c && u.Scheme != "https":
		return "", fmt.Errorf("--bridge %q: TLS needs https:// (or pass --insecure-h2c)", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// version is what --version prints: the module version and VCS revision
// the binary was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "gateway (no build information)"
	}
	v := "gateway " + bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			v += " revision " + s.Value
		}
	}
	return v + ", " + bi.GoVersion
}
