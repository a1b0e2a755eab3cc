{{/* Prefix of every object name; one release per tenant namespace. */}}
{{- define "orgtwin.fullname" -}}
{{- default "orgtwin" .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "orgtwin.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ $tag }}
{{- end -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "orgtwin.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: orgtwin
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ default .Chart.AppVersion .Values.image.tag | quote }}
{{- end -}}

{{/*
Selector labels of one component. app.kubernetes.io/name is what the operator's per-session
NetworkPolicies select (ORGTWIN_OPERATOR_API_POD_LABELS / _PROXY_POD_LABELS are set to match).
*/}}
{{- define "orgtwin.selectorLabels" -}}
app.kubernetes.io/name: {{ include "orgtwin.fullname" .root }}-{{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "orgtwin.labels" -}}
{{ include "orgtwin.commonLabels" .root }}
{{ include "orgtwin.selectorLabels" . }}
{{- end -}}

{{- define "orgtwin.apiUrl" -}}
http://{{ include "orgtwin.fullname" . }}-api:{{ .Values.api.service.port }}
{{- end -}}

{{- define "orgtwin.proxyUrl" -}}
http://{{ include "orgtwin.fullname" . }}-proxy:{{ .Values.proxy.service.port }}
{{- end -}}

{{/* Name of the shared session-signing Secret: fixed, the operator reads it by this name. */}}
{{- define "orgtwin.signingSecret" -}}orgtwin-session-signing{{- end -}}
{{- define "orgtwin.devSigningSecret" -}}{{ include "orgtwin.fullname" . }}-dev-signing{{- end -}}

{{/*
A generated key, kept across upgrades: the existing Secret's value when there is one,
else 64 random characters. Args: dict root, name, key.
*/}}
{{- define "orgtwin.keepOrGenerate" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .name -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{ index $existing.data .key }}
{{- else -}}
{{ randAlphaNum 64 | b64enc }}
{{- end -}}
{{- end -}}

{{/* Env shared by the three services. */}}
{{- define "orgtwin.logEnv" -}}
- name: {{ .prefix }}LOG_LEVEL
  value: {{ .root.Values.logging.level | quote }}
- name: {{ .prefix }}LOG_FORMAT
  value: {{ .root.Values.logging.format | quote }}
- name: {{ .prefix }}NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end -}}

{{- define "orgtwin.podSpecCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{- define "orgtwin.scheduling" -}}
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
{{- end -}}
