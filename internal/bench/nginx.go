package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// nginxConf is the reverse proxy of the nginx pair: one worker, HTTP/2
// with prior knowledge on a loopback port, HTTP/1.1 keepalive to the plain
// Go server, no logs on the request path.
const nginxConf = `worker_processes 1;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    upstream plain {
        server %[3]s;
        keepalive 64;
        keepalive_requests 100000000;
    }
    server {
        listen %[2]s http2;
        location / {
            proxy_pass http://plain;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }
}
`

// StartNginx writes a configuration into dir and runs nginx on listen
// (loopback), proxying to upstream over HTTP/1.1 keepalive.
func StartNginx(dir, listen, upstream string) (*Proc, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return nil, fmt.Errorf("bench: nginx not found (apt-get install nginx): %w", err)
	}
	if !strings.HasPrefix(listen, "127.0.0.1:") || !strings.HasPrefix(upstream, "127.0.0.1:") {
		return nil, fmt.Errorf("bench: nginx must listen and proxy on loopback, got %s -> %s", listen, upstream)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, dir, listen, upstream), 0o600); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return StartProc(bin, dir, filepath.Join(dir, "nginx.out"), []string{"-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", conf})
}

// NginxVersion returns nginx's version, or "not installed".
func NginxVersion() string {
	out, err := exec.Command("nginx", "-v").CombinedOutput()
	if err != nil {
		return "not installed"
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "nginx version: ")
}
