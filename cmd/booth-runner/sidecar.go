package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/hms-svc/hms-svc/internal/cli"
	"github.com/hms-svc/hms-svc/internal/sidecar"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// envAPIToken holds the sidecar's API token itself, when no
// --api-token-file (HMS_API_TOKEN_FILE) names a file.
const envAPIToken = "HMS_API_TOKEN"

// sidecarOpts are the flags of --sidecar.
type sidecarOpts struct {
	on                      bool
	identity, appURL        string
	endpoints, onceOnly     cli.List
	endpointsFile, listen   string
	tokenFile, version, dsc string
	concurrency             int
}

// sidecarFlags adds the sidecar's flags to fs.
func sidecarFlags(fs *flag.FlagSet) *sidecarOpts {
	o := &sidecarOpts{}
	fs.BoolVar(&o.on, "sidecar", false, "join the app at --app-url to the mesh as --identity, instead of running demo booths")
	fs.StringVar(&o.identity, "identity", "", "the app's identity in the matrix, with --sidecar ("+mesh.EnvIdentity+")")
	fs.StringVar(&o.appURL, "app-url", "", "the app's loopback HTTP address: a call to PATH is POSTed to URL+PATH (HMS_APP_URL)")
	fs.Var(&o.endpoints, "endpoint", "a path the app serves (repeatable)")
	fs.Var(&o.onceOnly, "not-idempotent", "a path the app serves that must run once per request id: its answer is kept and replayed (repeatable)")
	fs.StringVar(&o.endpointsFile, "endpoints", "", "YAML file listing the paths the app serves (endpoints: [{path: /p, idempotent: false}])")
	fs.StringVar(&o.listen, "listen", sidecar.DefaultListen, "the app's outbound endpoint: a loopback host:port or unix:/path (HMS_SIDECAR_LISTEN)")
	fs.StringVar(&o.tokenFile, "api-token-file", "", "file holding the API token the app presents on outbound calls (HMS_API_TOKEN_FILE; or the token itself in "+envAPIToken+")")
	fs.StringVar(&o.version, "booth-version", "", "the app's version, shown by discovery")
	fs.StringVar(&o.dsc, "description", "", "the app's description, shown by discovery")
	fs.IntVar(&o.concurrency, "concurrency", sidecar.DefaultConcurrency, "calls forwarded to the app at once")
	return o
}

// config returns the sidecar's config and identity, or nil without
// --sidecar; the sidecar's own flags without it are an error.
func (o *sidecarOpts) config() (*sidecar.Config, string, error) {
	if !o.on {
		if len(o.endpoints)+len(o.onceOnly) > 0 || o.endpointsFile != "" {
			return nil, "", fmt.Errorf("--endpoint, --not-idempotent and --endpoints apply with --sidecar only")
		}
		return nil, "", nil
	}
	cfg := &sidecar.Config{AppURL: o.appURL, Listen: o.listen, Version: o.version, Description: o.dsc, Concurrency: o.concurrency}
	if o.endpointsFile != "" {
		eps, err := sidecar.LoadEndpoints(o.endpointsFile)
		if err != nil {
			return nil, "", err
		}
		cfg.Endpoints = eps
	}
	for _, p := range o.endpoints {
		cfg.Endpoints = append(cfg.Endpoints, sidecar.Endpoint{Path: p})
	}
	no := false
	for _, p := range o.onceOnly {
		cfg.Endpoints = append(cfg.Endpoints, sidecar.Endpoint{Path: p, Idempotent: &no})
	}
	token, err := apiToken(o.tokenFile)
	if err != nil {
		return nil, "", err
	}
	cfg.APIToken = token
	return cfg, o.identity, nil
}

// apiToken reads the API token from file, or from HMS_API_TOKEN.
func apiToken(file string) (string, error) {
	if file == "" {
		return os.Getenv(envAPIToken), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--api-token-file: %w", err)
	}
	return string(bytes.TrimSpace(data)), nil
}
