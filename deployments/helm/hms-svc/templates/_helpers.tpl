{{/* Labels of every object; "component" is bridge, booth or nats. */}}
{{- define "hms-svc.labels" -}}
app.kubernetes.io/name: hms-svc
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: hms-svc
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
app.kubernetes.io/component: {{ .component }}
{{- with (get . "booth") }}
hms-svc.io/booth: {{ . }}
{{- end }}
{{- end }}

{{/* Selector labels: stable across upgrades. */}}
{{- define "hms-svc.selector" -}}
app.kubernetes.io/name: hms-svc
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- with (get . "booth") }}
hms-svc.io/booth: {{ . }}
{{- end }}
{{- end }}

{{/* The image of one of the mesh's commands, tagged with appVersion by default. */}}
{{- define "hms-svc.image" -}}
{{- $img := .root.Values.image -}}
{{ printf "%s%s/%s:%s" $img.registry $img.repository .command (default .root.Chart.AppVersion $img.tag) }}
{{- end }}

{{/* Every pod: user 65532, no service account token, seccomp RuntimeDefault. */}}
{{- define "hms-svc.podSecurity" -}}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  fsGroup: 65532
  seccompProfile:
    type: RuntimeDefault
{{- end }}

{{/* Every container: no privilege, no capability, a read-only root. */}}
{{- define "hms-svc.containerSecurity" -}}
securityContext:
  runAsNonRoot: true
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  privileged: false
  capabilities:
    drop: [ALL]
  seccompProfile:
    type: RuntimeDefault
{{- end }}

{{/* Scheduling settings a component's values may give. */}}
{{- define "hms-svc.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The NATS URL the mesh's processes join. */}}
{{- define "hms-svc.natsURL" -}}
nats://{{ .Values.prefix }}-nats:{{ .Values.nats.clientPort }}
{{- end }}

{{/* Environment of the mesh's Go processes: the pod's name, and a soft memory limit at the container's. */}}
{{- define "hms-svc.goEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: GOMEMLIMIT
  valueFrom:
    resourceFieldRef:
      resource: limits.memory
{{- end }}

{{/* Probes on the health listener. */}}
{{- define "hms-svc.probes" -}}
startupProbe:
  httpGet: {path: /healthz, port: health}
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet: {path: /healthz, port: health}
  periodSeconds: 10
  timeoutSeconds: 2
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: health}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end }}

{{/* Egress of a NATS client: the NATS pods' client port, and DNS. */}}
{{- define "hms-svc.egressToNATS" -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "hms-svc.selector" (dict "root" .root "component" "nats") | nindent 10 }}
  ports:
    - {port: {{ .root.Values.nats.clientPort }}, protocol: TCP}
- to:
    {{- toYaml .root.Values.networkPolicy.dns | nindent 4 }}
  ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
{{- end }}
