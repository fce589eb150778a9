{{/* The release's full name: the release name, with "ordersaga" added unless it is in it already. */}}
{{- define "ordersaga.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ordersaga.labels" -}}
{{ include "ordersaga.commonLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The labels of one role's objects and pods: (dict "root" $ "name" "orders-api"). */}}
{{- define "ordersaga.roleLabels" -}}
{{ include "ordersaga.commonLabels" .root }}
{{ include "ordersaga.selector" . }}
{{- end -}}

{{- define "ordersaga.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/part-of: ordersaga
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The labels that pick one role's pods: (dict "root" $ "name" "orders-api"). */}}
{{- define "ordersaga.selector" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ .name }}
{{- end -}}

{{/*
The labels that pick one Deployment's pods: a role's, and for a version of the orders worker also its build
id (dict "root" $ "name" "orders-worker" "version" (dict "buildId" ...)). The pods of every version keep the
role's labels, so its Service, NetworkPolicy and ServiceMonitor cover them all.
*/}}
{{- define "ordersaga.podSelector" -}}
{{ include "ordersaga.selector" . }}
{{- with .version }}
temporal.io/build-id: {{ .buildId | quote }}
{{- end }}
{{- end -}}

{{/*
The orders worker's versions (workers.orders.versions), as a JSON list, after the checks the values schema
cannot make: build ids unique, `current` one of them, Worker Versioning not turned off, and no other
deployment name in `config`.
*/}}
{{- define "ordersaga.ordersVersions" -}}
{{- $orders := .Values.workers.orders | default dict -}}
{{- $versions := $orders.versions | default list -}}
{{- $seen := dict -}}
{{- range $versions }}
{{- if hasKey $seen .buildId }}
{{- fail (printf "workers.orders.versions: build id %s is listed twice (each version is a Deployment of its own)" .buildId) }}
{{- end }}
{{- $_ := set $seen .buildId true }}
{{- end }}
{{- if $versions }}
{{- if not (hasKey $seen (toString $orders.current)) }}
{{- fail (printf "workers.orders.current: %q is not a build id of workers.orders.versions" (toString $orders.current)) }}
{{- end }}
{{- if eq (toString (get .Values.config "WORKER_VERSIONING")) "off" }}
{{- fail "workers.orders.versions needs Worker Versioning: config.WORKER_VERSIONING is off" }}
{{- end }}
{{- with get .Values.config "WORKER_DEPLOYMENT_NAME" }}
{{- if ne (toString .) (toString $orders.deploymentName) }}
{{- fail (printf "config.WORKER_DEPLOYMENT_NAME (%s) is not workers.orders.deploymentName (%s): the versions would poll as another Worker Deployment" (toString .) (toString $orders.deploymentName)) }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson $versions }}
{{- end -}}

{{- define "ordersaga.serviceAccountName" -}}
{{- default (include "ordersaga.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "ordersaga.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/*
The system's shape, from the code: each process (main.ts role), the port its /health, /ready and /metrics
answer on (lib/config.ts), the services it calls (service URLs: every API but users checks tokens against
the users service's keys, lib/http/auth.ts; orders calls users and products; the gateway calls all five),
what it stores in (its own database only; Redis also carries the domain events the users and orders
services and the products, orders and payments workers publish, lib/events), whether it opens the event bus
(`events`: on Kafka too when events.transport is kafka, lib/events/open-bus.ts; the notifications service
consumes), whether it talks to Temporal, and a worker's task queue (contracts/temporal.ts).
The codec endpoint (api/codec) keeps no connection: with auth `token` it reads the users service's keys.
*/}}
{{- define "ordersaga.topology" -}}
users-api: { kind: api, service: users, args: [api, users], port: 3001, calls: [], stores: [postgres, redis], events: true, temporal: false }
products-api: { kind: api, service: products, args: [api, products], port: 3002, calls: [users-api], stores: [mongo, postgres], temporal: false }
orders-api: { kind: api, service: orders, args: [api, orders], port: 3003, calls: [users-api, products-api], stores: [postgres, redis], events: true, temporal: true }
payments-api: { kind: api, service: payments, args: [api, payments], port: 3004, calls: [users-api], stores: [postgres], temporal: false }
notifications-api: { kind: api, service: notifications, args: [api, notifications], port: 3005, calls: [users-api], stores: [redis], events: true, temporal: false }
gateway: { kind: gateway, service: gateway, args: [api, gateway], port: 8080, calls: [users-api, products-api, orders-api, payments-api, notifications-api], stores: [redis], temporal: false }
users-worker: { kind: worker, service: users, taskQueue: users, args: [worker, users], port: 9401, calls: [], stores: [postgres], temporal: true }
products-worker: { kind: worker, service: products, taskQueue: inventory, args: [worker, products], port: 9402, calls: [], stores: [postgres, redis], events: true, temporal: true }
orders-worker: { kind: worker, service: orders, taskQueue: orders, args: [worker, orders], port: 9403, calls: [], stores: [postgres, redis], temporal: true }
payments-worker: { kind: worker, service: payments, taskQueue: payments, args: [worker, payments], port: 9404, calls: [], stores: [postgres, redis], events: true, temporal: true }
notifications-worker: { kind: worker, service: notifications, taskQueue: notifications, args: [worker, notifications], port: 9405, calls: [], stores: [redis], temporal: true }
{{- if .Values.codecServer.enabled }}
codec-server: { kind: codec, service: codec, args: [codec-server], port: 8089, calls: [{{ if eq .Values.codecServer.auth "token" }}users-api{{ end }}], stores: [], temporal: false }
{{- end }}
{{- end -}}

{{/*
KAFKA_BROKERS: the in-chart node (kafka.enabled) by its stable name, which it also advertises; else
kafka.brokers. Empty when neither, which events.transport kafka cannot do with.
*/}}
{{- define "ordersaga.kafkaBrokers" -}}
{{- if .Values.kafka.enabled -}}
{{- $kafka := printf "%s-kafka" (include "ordersaga.fullname" .) -}}
{{- printf "%s-0.%s.%s.svc:9092" $kafka $kafka .Release.Namespace -}}
{{- else -}}
{{- .Values.kafka.brokers -}}
{{- end -}}
{{- if and (eq .Values.events.transport "kafka") (not (or .Values.kafka.enabled .Values.kafka.brokers)) -}}
{{- fail "events.transport is kafka but no broker is given: set kafka.enabled=true (one in-chart KRaft node) or kafka.brokers (your cluster, host:port comma-separated)" -}}
{{- end -}}
{{- end -}}

{{/* The one-shot jobs: what they reach. */}}
{{- define "ordersaga.jobs" -}}
migrate: { stores: [postgres, mongo], temporal: false }
register-search-attributes: { stores: [], temporal: true }
{{- end -}}

{{/* Checksums of the configuration the pods read: a change rolls them. */}}
{{- define "ordersaga.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- if .Values.istio.enabled }}
sidecar.istio.io/inject: 'true'
{{- end }}
{{- end -}}

{{/*
The environment of every process: the ConfigMap, the Secret, the Temporal API key, and `env`, a process's
own variables (a version of the orders worker: its build id). The hooks run before the release's own
objects exist, so they read hook copies of the ConfigMap and Secret: (dict "root" $ "hook" true).
*/}}
{{- define "ordersaga.env" -}}
{{- $root := .root -}}
{{- $suffix := ternary "-hooks" "" .hook -}}
envFrom:
  - configMapRef:
      name: {{ include "ordersaga.fullname" $root }}{{ $suffix }}-config
  - secretRef:
      {{- if $root.Values.secrets.existingSecret }}
      name: {{ $root.Values.secrets.existingSecret }}
      {{- else }}
      name: {{ include "ordersaga.fullname" $root }}{{ $suffix }}-secrets
      {{- end }}
{{- if or .env $root.Values.temporal.apiKey.existingSecret }}
env:
{{- range $k, $v := .env }}
  - name: {{ $k }}
    value: {{ $v | quote }}
{{- end }}
{{- end }}
{{- if $root.Values.temporal.apiKey.existingSecret }}
  - name: TEMPORAL_API_KEY
    valueFrom:
      secretKeyRef:
        name: {{ $root.Values.temporal.apiKey.existingSecret }}
        key: {{ $root.Values.temporal.apiKey.key }}
{{- end }}
{{- end -}}

{{/* What the hook copies carry: created before the hooks, deleted once they have all succeeded. */}}
{{- define "ordersaga.hookAnnotations" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: '-10'
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end -}}

{{- define "ordersaga.anyHook" -}}
{{- if or .Values.hooks.migrate .Values.hooks.registerSearchAttributes }}true{{ end -}}
{{- end -}}

{{- define "ordersaga.volumeMounts" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- if .Values.temporal.tls.existingSecret }}
  - name: temporal-tls
    mountPath: /etc/ordersaga/temporal-tls
    readOnly: true
{{- end }}
{{- end -}}

{{- define "ordersaga.volumes" -}}
volumes:
  # The root filesystem is read-only: /tmp is the one writable place.
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- if .Values.temporal.tls.existingSecret }}
  - name: temporal-tls
    secret:
      secretName: {{ .Values.temporal.tls.existingSecret }}
      defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "ordersaga.podSpecCommon" -}}
serviceAccountName: {{ include "ordersaga.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
