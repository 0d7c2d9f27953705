{{/* Names, labels and the per-service facts every template shares. */}}

{{- define "docintake.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The name of one service's objects: (dict "root" $ "component" "gateway") */}}
{{- define "docintake.componentName" -}}
{{- printf "%s-%s" (include "docintake.fullname" .root) .component -}}
{{- end -}}

{{- define "docintake.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "docintake.labels" -}}
{{ include "docintake.selectorLabels" . }}
app.kubernetes.io/part-of: docintake
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "docintake.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "docintake.fullname" .)) -}}
{{- end -}}

{{- define "docintake.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "docintake.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* The services (the OCR workers are the ingestor's image in the role ocr); for each: its console script's image, its port's name, the Secret keys it reads. */}}
{{- define "docintake.components" -}}
gateway:
  image: docintake-gateway
  portName: http
  secretKeys: [DOCINTAKE_RABBITMQ_URL, DOCINTAKE_MINIO_ACCESS_KEY, DOCINTAKE_MINIO_SECRET_KEY, DOCINTAKE_API_KEYS]
ingestor:
  image: docintake-ingestor
  portName: metrics
  secretKeys: [DOCINTAKE_RABBITMQ_URL, DOCINTAKE_MINIO_ACCESS_KEY, DOCINTAKE_MINIO_SECRET_KEY, DOCINTAKE_NEO4J_PASSWORD]
ocr:
  image: docintake-ingestor
  portName: metrics
  secretKeys: [DOCINTAKE_RABBITMQ_URL, DOCINTAKE_MINIO_ACCESS_KEY, DOCINTAKE_MINIO_SECRET_KEY, DOCINTAKE_NEO4J_PASSWORD]
status:
  image: docintake-status
  portName: http
  secretKeys: [DOCINTAKE_RABBITMQ_URL, DOCINTAKE_NEO4J_PASSWORD, DOCINTAKE_API_KEYS]
{{- end -}}

{{/* The services the chart deploys, joined by spaces: the OCR workers when ocr.enabled. */}}
{{- define "docintake.componentNames" -}}
{{- $names := list "gateway" "ingestor" "status" -}}
{{- if .Values.ocr.enabled -}}{{- $names = append $names "ocr" -}}{{- end -}}
{{- join " " $names -}}
{{- end -}}

{{/* The autoscaling kind of one service, checked: (dict "root" $ "component" "gateway") */}}
{{- define "docintake.autoscalingKind" -}}
{{- $kind := (index .root.Values .component).autoscaling.kind -}}
{{- $allowed := ternary (list "hpa" "none") (list "keda" "hpa" "none") (eq .component "gateway") -}}
{{- if not (has $kind $allowed) -}}
{{- fail (printf "%s.autoscaling.kind must be one of %s, not %q" .component (join ", " $allowed) $kind) -}}
{{- end -}}
{{- $kind -}}
{{- end -}}

{{/* Settings one service gets from its ConfigMap. */}}
{{- define "docintake.config" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $c := index $v .component -}}
{{- $servers := dict
  "DOCINTAKE_MINIO_ENDPOINT" $v.servers.minio.endpoint
  "DOCINTAKE_MINIO_SECURE" (toString $v.servers.minio.secure)
  "DOCINTAKE_MINIO_BUCKET" $v.servers.minio.bucket
  "DOCINTAKE_NEO4J_URI" $v.servers.neo4j.uri
  "DOCINTAKE_NEO4J_USER" $v.servers.neo4j.user
  "DOCINTAKE_NEO4J_DATABASE" $v.servers.neo4j.database
-}}
{{- /* What the pod's ports and the chart's other objects depend on: `config` cannot override it. */ -}}
{{- $settings := dict -}}
{{- if eq .component "gateway" -}}
{{- $_ := set $settings "DOCINTAKE_GATEWAY_HOST" "0.0.0.0" -}}
{{- $_ := set $settings "DOCINTAKE_GATEWAY_PORT" (toString $c.port) -}}
{{- $_ := set $settings "DOCINTAKE_STATUS_URL" (printf "http://%s:%v" (include "docintake.componentName" (dict "root" $root "component" "status")) $v.status.port) -}}
{{- else if eq .component "ingestor" -}}
{{- $_ := set $settings "DOCINTAKE_INGESTOR_HOST" "0.0.0.0" -}}
{{- $_ := set $settings "DOCINTAKE_INGESTOR_METRICS_PORT" (toString $c.port) -}}
{{- $_ := set $settings "DOCINTAKE_WORKERS" (toString $c.workers) -}}
{{- $_ := set $settings "DOCINTAKE_WORK_DIR" "/tmp/docintake-ingestor" -}}
{{- /* With OCR workers of their own the ingestor's pods take text only; without, they OCR too. */ -}}
{{- $_ := set $settings "DOCINTAKE_INGESTOR_ROLE" (ternary "text" "all" (and $v.ocr.enabled true)) -}}
{{- else if eq .component "ocr" -}}
{{- $_ := set $settings "DOCINTAKE_INGESTOR_HOST" "0.0.0.0" -}}
{{- $_ := set $settings "DOCINTAKE_INGESTOR_METRICS_PORT" (toString $c.port) -}}
{{- $_ := set $settings "DOCINTAKE_INGESTOR_ROLE" "ocr" -}}
{{- $_ := set $settings "DOCINTAKE_OCR_WORKERS" (toString $c.workers) -}}
{{- $_ := set $settings "DOCINTAKE_WORKERS" "1" -}}
{{- $_ := set $settings "DOCINTAKE_WORK_DIR" "/tmp/docintake-ingestor" -}}
{{- else -}}
{{- $_ := set $settings "DOCINTAKE_STATUS_HOST" "0.0.0.0" -}}
{{- $_ := set $settings "DOCINTAKE_STATUS_PORT" (toString $c.port) -}}
{{- end -}}
{{- if and $v.tenants.existingSecret (not (has .component (list "ingestor" "ocr"))) -}}
{{- $_ := set $settings "DOCINTAKE_TENANTS_FILE" "/etc/docintake/tenants/tenants.json" -}}
{{- end -}}
{{- range $key, $value := merge $settings (deepCopy ($c.config | default dict)) (deepCopy ($v.config | default dict)) $servers }}
{{ $key }}: {{ toString $value | quote }}
{{- end -}}
{{- end -}}
