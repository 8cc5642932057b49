{{/* Names, labels and the values checks every template relies on. */}}

{{- define "gatehouse.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gatehouse.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "gatehouse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatehouse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gatehouse.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "gatehouse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "gatehouse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gatehouse.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "gatehouse.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "gatehouse.singleNode" -}}
{{- if eq .Values.mode "singleNode" -}}true{{- end -}}
{{- end -}}

{{- define "gatehouse.secretName" -}}
{{- default (include "gatehouse.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Fails the render with a clear message for values that cannot work. */}}
{{- define "gatehouse.validate" -}}
{{- if not (hasPrefix "https://" (required "issuer is required: the public https URL of this deployment" .Values.issuer)) -}}
{{- if eq .Values.profile "production" -}}
{{- fail "issuer must be an https URL in the production profile" -}}
{{- end -}}
{{- end -}}
{{- if not .Values.secrets.existingSecret -}}
{{- $_ := required "secrets.masterKey (or secrets.existingSecret) is required: 32 bytes, base64" .Values.secrets.masterKey -}}
{{- if eq .Values.mode "scaleOut" -}}
{{- $_ := required "scaleOut needs PostgreSQL: secrets.databaseUrl (or secrets.existingSecret)" .Values.secrets.databaseUrl -}}
{{- end -}}
{{- if .Values.redis.enabled -}}
{{- $_ := required "redis.enabled needs secrets.redisUrl (or secrets.existingSecret)" .Values.secrets.redisUrl -}}
{{- end -}}
{{- if .Values.adminApi.enabled -}}
{{- $_ := required "adminApi.enabled needs secrets.adminToken (or secrets.existingSecret)" .Values.secrets.adminToken -}}
{{- end -}}
{{- if .Values.metrics.token -}}
{{- $_ := required "metrics.token needs secrets.metricsToken (or secrets.existingSecret)" .Values.secrets.metricsToken -}}
{{- end -}}
{{- if .Values.bootstrapAdmin.passwordFromSecret -}}
{{- $_ := required "bootstrapAdmin.passwordFromSecret needs secrets.bootstrapAdminPassword (or secrets.existingSecret)" .Values.secrets.bootstrapAdminPassword -}}
{{- end -}}
{{- end -}}
{{- if and (eq .Values.mode "singleNode") .Values.redis.enabled -}}
{{- fail "redis.enabled is for scaleOut: a single node keeps its failure budgets in memory" -}}
{{- end -}}
{{- end -}}

{{/* Where the Secret's files appear in every container that reads them. */}}
{{- define "gatehouse.secretDir" -}}/run/secrets/gatehouse{{- end -}}

{{/* Environment shared by the server, the init container and the Job. */}}
{{- define "gatehouse.env" -}}
- name: GATEHOUSE_CONFIG
  value: /etc/gatehouse/gatehouse.toml
{{- end -}}

{{- define "gatehouse.secretVolume" -}}
- name: secrets
  secret:
    secretName: {{ include "gatehouse.secretName" . }}
    defaultMode: 0440
{{- end -}}

{{- define "gatehouse.secretData" -}}
master-key: {{ .Values.secrets.masterKey | b64enc }}
{{- if .Values.secrets.databaseUrl }}
database-url: {{ .Values.secrets.databaseUrl | b64enc }}
{{- end }}
{{- if .Values.secrets.redisUrl }}
redis-url: {{ .Values.secrets.redisUrl | b64enc }}
{{- end }}
{{- if .Values.secrets.adminToken }}
admin-token: {{ .Values.secrets.adminToken | b64enc }}
{{- end }}
{{- if .Values.secrets.metricsToken }}
metrics-token: {{ .Values.secrets.metricsToken | b64enc }}
{{- end }}
{{- if .Values.secrets.bootstrapAdminPassword }}
bootstrap-admin-password: {{ .Values.secrets.bootstrapAdminPassword | b64enc }}
{{- end }}
{{- end -}}

{{- define "gatehouse.volumeMounts" -}}
- name: config
  mountPath: /etc/gatehouse
  readOnly: true
- name: secrets
  mountPath: {{ include "gatehouse.secretDir" . }}
  readOnly: true
- name: data
  mountPath: /var/lib/gatehouse
- name: tmp
  mountPath: /tmp
{{- end -}}
