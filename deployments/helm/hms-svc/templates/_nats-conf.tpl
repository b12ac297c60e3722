{{/* The NATS server config: one for every node of the StatefulSet. */}}
{{- define "hms-svc.natsConf" -}}
server_name: $POD_NAME
listen: "0.0.0.0:{{ .Values.nats.clientPort }}"
http: "0.0.0.0:{{ .Values.nats.monitorPort }}"
pid_file: "/var/run/nats/nats.pid"
lame_duck_duration: "30s"
lame_duck_grace_period: "10s"

jetstream {
  store_dir: "/data/jetstream"
  max_memory_store: {{ .Values.nats.jetstream.maxMemoryStore }}
  max_file_store: {{ .Values.nats.jetstream.maxFileStore }}
  {{- with .Values.nats.jetstream.syncInterval }}
  sync_interval: {{ . | quote }}
  {{- end }}
}

# mTLS: every client presents a certificate signed by the mesh CA.
tls {
  cert_file: "/etc/nats/server.pem"
  key_file: "/etc/nats/server-key.pem"
  ca_file: "/etc/nats/ca.pem"
  verify: true
  timeout: 2
}

# Routes use TLS both ways and accept only the route certificate.
cluster {
  name: "hms-svc"
  listen: "0.0.0.0:{{ .Values.nats.clusterPort }}"
  # Clients reconnect through the Service's name, which the server
  # certificate holds, never to a pod's address, which it cannot.
  no_advertise: true
  routes: [
    {{- range $i := until (int .Values.nats.replicas) }}
    "nats-route://{{ $.Values.prefix }}-nats-{{ $i }}.{{ $.Values.prefix }}-nats-headless:{{ $.Values.nats.clusterPort }}"
    {{- end }}
  ]
  tls {
    cert_file: "/etc/nats/route.pem"
    key_file: "/etc/nats/route-key.pem"
    ca_file: "/etc/nats/ca.pem"
    verify_and_map: true
    timeout: 2
  }
  authorization {
    user: "spiffe://hms-svc/mesh/route"
  }
}

# The users and their permissions, generated from the matrix; it includes
# their public NKeys (nkeys.conf, from the Secret).
include "authorization.conf"
{{- end }}
