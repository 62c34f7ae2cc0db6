{{/* The chart's name, or nameOverride. */}}
{{- define "torchlight.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The name of every object: the release name, with the chart's name unless it already holds it. */}}
{{- define "torchlight.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "torchlight.selectorLabels" -}}
app.kubernetes.io/name: {{ include "torchlight.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "torchlight.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "torchlight.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "torchlight.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "torchlight.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "torchlight.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The model image of modelRepository.source image and imageVolume. */}}
{{- define "torchlight.modelImage" -}}
{{- $image := .Values.modelRepository.image }}
{{- if not $image.repository }}
{{- fail (printf "modelRepository.source %s needs modelRepository.image.repository" .Values.modelRepository.source) }}
{{- end }}
{{- if $image.tag }}
{{- printf "%s:%s" $image.repository $image.tag }}
{{- else }}
{{- $image.repository }}
{{- end }}
{{- end }}

{{/* Where the container sees the model repository. */}}
{{- define "torchlight.repositoryPath" -}}
/models
{{- end }}
