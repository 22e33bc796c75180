{{/*
Names, labels, images, the AI2TEXT_* environment and the checks of contradictory values.
*/}}

{{- define "ai2text.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ai2text.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ai2text.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels; call with (dict "root" $ "component" "operator"). */}}
{{- define "ai2text.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ai2text.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels; call with (dict "root" $ "component" "operator"). */}}
{{- define "ai2text.labels" -}}
helm.sh/chart: {{ include "ai2text.chart" .root }}
{{ include "ai2text.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: ai2text
{{- end -}}

{{- define "ai2text.configMapName" -}}
{{- printf "%s-config" (include "ai2text.fullname" .) -}}
{{- end -}}

{{- define "ai2text.operatorServiceAccount" -}}
{{- printf "%s-operator" (include "ai2text.fullname" .) -}}
{{- end -}}

{{/* The service account of Ray pods: the RayService's and the training RayJobs'. */}}
{{- define "ai2text.rayServiceAccount" -}}
{{- printf "%s-ray" (include "ai2text.fullname" .) -}}
{{- end -}}

{{/* Ray image of a variant; call with (dict "root" $ "variant" "gpu"). */}}
{{- define "ai2text.rayImage" -}}
{{- $tag := default .root.Chart.AppVersion .root.Values.image.ray.tag -}}
{{- printf "%s:%s-%s" .root.Values.image.ray.repository $tag .variant -}}
{{- end -}}

{{- define "ai2text.operatorImage" -}}
{{- $tag := default .Chart.AppVersion .Values.image.operator.tag -}}
{{- printf "%s:%s" .Values.image.operator.repository $tag -}}
{{- end -}}

{{/* The image of training RayJob pods. */}}
{{- define "ai2text.jobImage" -}}
{{- if .Values.operator.job.image -}}
{{- .Values.operator.job.image -}}
{{- else -}}
{{- include "ai2text.rayImage" (dict "root" . "variant" (ternary "gpu" "cpu" .Values.rayService.gpuWorkers.enabled)) -}}
{{- end -}}
{{- end -}}

{{/* [variable, secret reference, its values key] of every secret setting, as JSON. */}}
{{- define "ai2text.secretRefs" -}}
{{- $s := .Values.secrets -}}
{{- list
  (list "AI2TEXT_DATABASE_URL" $s.databaseUrl "secrets.databaseUrl")
  (list "AI2TEXT_S3__ACCESS_KEY_ID" $s.s3AccessKeyId "secrets.s3AccessKeyId")
  (list "AI2TEXT_S3__SECRET_ACCESS_KEY" $s.s3SecretAccessKey "secrets.s3SecretAccessKey")
  (list "AI2TEXT_QDRANT_API_KEY" $s.qdrantApiKey "secrets.qdrantApiKey")
  (list "AI2TEXT_AUTH__JWT_SECRET" $s.jwt.secret "secrets.jwt.secret")
  | toJson -}}
{{- end -}}

{{/* env entries of the secret settings that are set (secretKeyRef, never values). */}}
{{- define "ai2text.secretEnv" -}}
{{- range $pair := include "ai2text.secretRefs" . | fromJsonArray }}
{{- $ref := index $pair 1 }}
{{- if $ref.name }}
- name: {{ index $pair 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name | quote }}
      key: {{ $ref.key | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "ai2text.jwtDir" -}}/etc/ai2text/jwt{{- end -}}

{{/* Whether an RS256 key file is mounted ("true" or ""). */}}
{{- define "ai2text.hasJwtFiles" -}}
{{- if or .Values.secrets.jwt.publicKey.name .Values.secrets.jwt.jwks.name -}}true{{- end -}}
{{- end -}}

{{/* The projected volume of the RS256 public key and JWKS files. */}}
{{- define "ai2text.jwtVolume" -}}
{{- $jwt := .Values.secrets.jwt -}}
- name: jwt
  projected:
    defaultMode: 0444
    sources:
      {{- if $jwt.publicKey.name }}
      - secret:
          name: {{ $jwt.publicKey.name | quote }}
          items:
            - key: {{ $jwt.publicKey.key | quote }}
              path: public.pem
      {{- end }}
      {{- if $jwt.jwks.name }}
      - secret:
          name: {{ $jwt.jwks.name | quote }}
          items:
            - key: {{ $jwt.jwks.key | quote }}
              path: jwks.json
      {{- end }}
{{- end -}}

{{/* ConfigMaps whose keys training RayJob pods get as variables, as a JSON list. */}}
{{- define "ai2text.jobEnvFromConfigMaps" -}}
{{- prepend .Values.operator.job.extraEnvFromConfigMaps (include "ai2text.configMapName" .) | uniq | toJson -}}
{{- end -}}

{{/* Secrets whose keys training RayJob pods get as variables, as a JSON list. */}}
{{- define "ai2text.jobEnvFromSecrets" -}}
{{- $names := list -}}
{{- if .Values.operator.job.secretsFromRefs -}}
{{- range $pair := include "ai2text.secretRefs" . | fromJsonArray -}}
{{- $ref := index $pair 1 -}}
{{- if $ref.name -}}
{{- $names = append $names $ref.name -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- concat $names .Values.operator.job.extraEnvFromSecrets | uniq | toJson -}}
{{- end -}}

{{/* Threads torch uses in an ASR replica: its reserved CPUs, at least one. */}}
{{- define "ai2text.asrThreads" -}}
{{- max 1 (int (ceil (float64 .Values.serve.asr.numCpus))) -}}
{{- end -}}

{{/* The non-secret AI2TEXT_* settings (the ConfigMap's data), as JSON. */}}
{{- define "ai2text.configData" -}}
{{- $c := .Values.config -}}
{{- $s := .Values.serve -}}
{{- $d := dict
  "AI2TEXT_ENV" "prod"
  "AI2TEXT_HOME" "/var/lib/ai2text"
  "AI2TEXT_BLOB_BACKEND" "s3"
  "AI2TEXT_S3__BUCKET" $c.s3.bucket
  "AI2TEXT_S3__REGION" $c.s3.region
  "AI2TEXT_S3__PREFIX" $c.s3.prefix
  "AI2TEXT_VECTOR_BACKEND" $c.vectors.backend
  "AI2TEXT_BUS__TRANSPORT" $c.bus.transport
  "AI2TEXT_AUTH__ISSUER" $c.auth.issuer
  "AI2TEXT_AUTH__AUDIENCE" $c.auth.audience
  "AI2TEXT_SERVE__HOST" "0.0.0.0"
  "AI2TEXT_SERVE__PORT" "8000"
  "AI2TEXT_SERVE__CORS_ORIGINS" ($c.api.corsOrigins | toJson)
  "AI2TEXT_SERVE__TRUSTED_PROXIES" ($c.api.trustedProxies | toJson)
  "AI2TEXT_SERVE__RATE_LIMIT_PER_MINUTE" (int64 $c.api.rateLimitPerMinute | toString)
  "AI2TEXT_SERVE__MAX_UPLOAD_BYTES" (int64 $c.api.maxUploadBytes | toString)
  "AI2TEXT_SERVE__ASR_MIN_REPLICAS" (int64 $s.asr.minReplicas | toString)
  "AI2TEXT_SERVE__ASR_MAX_REPLICAS" (int64 $s.asr.maxReplicas | toString)
  "AI2TEXT_SERVE__ASR_TARGET_ONGOING_REQUESTS" ($s.asr.targetOngoingRequests | toString)
  "AI2TEXT_SERVE__ASR_NUM_CPUS" ($s.asr.numCpus | toString)
  "AI2TEXT_SERVE__ASR_THREADS" (include "ai2text.asrThreads" .)
  "AI2TEXT_SERVE__ASR_MAX_BATCH_SIZE" (int64 $s.asr.maxBatchSize | toString)
-}}
{{- if $c.s3.endpointUrl -}}
{{- $_ := set $d "AI2TEXT_S3__ENDPOINT_URL" $c.s3.endpointUrl -}}
{{- end -}}
{{- if $c.vectors.qdrantUrl -}}
{{- $_ := set $d "AI2TEXT_QDRANT_URL" $c.vectors.qdrantUrl -}}
{{- end -}}
{{- if $c.bus.natsUrl -}}
{{- $_ := set $d "AI2TEXT_BUS__NATS_URL" $c.bus.natsUrl -}}
{{- end -}}
{{- if .Values.secrets.jwt.publicKey.name -}}
{{- $_ := set $d "AI2TEXT_AUTH__JWT_PUBLIC_KEY_FILE" (printf "%s/public.pem" (include "ai2text.jwtDir" .)) -}}
{{- end -}}
{{- if .Values.secrets.jwt.jwks.name -}}
{{- $_ := set $d "AI2TEXT_AUTH__JWT_JWKS_FILE" (printf "%s/jwks.json" (include "ai2text.jwtDir" .)) -}}
{{- end -}}
{{- range $pair := include "ai2text.secretRefs" . | fromJsonArray -}}
{{- if hasKey $c.extraEnv (index $pair 0) -}}
{{- fail (printf "config.extraEnv.%s: a secret setting never goes into the ConfigMap; name its Secret under secrets.*" (index $pair 0)) -}}
{{- end -}}
{{- end -}}
{{- range $key, $value := $c.extraEnv -}}
{{- if hasKey $d $key -}}
{{- fail (printf "config.extraEnv.%s: the chart sets this variable from its own values; change those instead" $key) -}}
{{- end -}}
{{- $_ := set $d $key (toString $value) -}}
{{- end -}}
{{- toJson $d -}}
{{- end -}}

{{/* The Serve config of the RayService (deployments/serve_config.yaml for a cluster). */}}
{{- define "ai2text.serveConfig" -}}
{{- $s := .Values.serve -}}
proxy_location: HeadOnly
http_options:
  host: 0.0.0.0
  port: 8000
applications:
  - name: ai2text
    route_prefix: /
    import_path: deployments.app:app_builder
    logging_config:
      log_level: {{ .Values.config.logLevel }}
    deployments:
      - name: ingress
        num_replicas: {{ int64 $s.ingress.numReplicas }}
      - name: asr
        user_config:
          model_version: {{ if $s.modelVersion }}{{ $s.modelVersion | toJson }}{{ else }}null{{ end }}
        autoscaling_config:
          min_replicas: {{ int64 $s.asr.minReplicas }}
          max_replicas: {{ int64 $s.asr.maxReplicas }}
          target_ongoing_requests: {{ $s.asr.targetOngoingRequests }}
        ray_actor_options:
          num_cpus: {{ $s.asr.numCpus }}
          num_gpus: {{ $s.asr.numGpus }}
      - name: stream_asr
        user_config:
          model_version: {{ if $s.modelVersion }}{{ $s.modelVersion | toJson }}{{ else }}null{{ end }}
        autoscaling_config:
          min_replicas: {{ int64 $s.streamAsr.minReplicas }}
          max_replicas: {{ int64 $s.streamAsr.maxReplicas }}
          target_ongoing_requests: {{ $s.streamAsr.targetOngoingRequests }}
        ray_actor_options:
          num_cpus: {{ $s.streamAsr.numCpus }}
          num_gpus: {{ $s.streamAsr.numGpus }}
      - name: nlp
        num_replicas: {{ int64 $s.nlp.numReplicas }}
      - name: embeddings
        num_replicas: {{ int64 $s.embeddings.numReplicas }}
{{- end -}}

{{/*
Contradictory values stop the install here, each with a message naming the keys. Included by
the ConfigMap, which every configuration renders.
*/}}
{{- define "ai2text.validate" -}}
{{- $v := .Values -}}
{{- if not $v.secrets.databaseUrl.name -}}
{{- fail "secrets.databaseUrl.name is empty: in a cluster ai2text needs an external PostgreSQL (the embedded one is refused outside dev); name the Secret holding its URL" -}}
{{- end -}}
{{- if and (eq $v.config.vectors.backend "qdrant") (not $v.config.vectors.qdrantUrl) -}}
{{- fail "config.vectors.backend is qdrant but config.vectors.qdrantUrl is empty: set the Qdrant URL, or use the pgvector backend" -}}
{{- end -}}
{{- if and $v.secrets.qdrantApiKey.name (ne $v.config.vectors.backend "qdrant") -}}
{{- fail "secrets.qdrantApiKey.name is set but config.vectors.backend is not qdrant: the key would never be used; clear it or switch the backend to qdrant" -}}
{{- end -}}
{{- if and (eq $v.config.bus.transport "nats") (not $v.config.bus.natsUrl) -}}
{{- fail "config.bus.transport is nats but config.bus.natsUrl is empty: set the NATS URL, or use the postgres transport" -}}
{{- end -}}
{{- if not (or $v.secrets.jwt.secret.name $v.secrets.jwt.publicKey.name $v.secrets.jwt.jwks.name) -}}
{{- fail "no JWT key: set secrets.jwt.publicKey.name or secrets.jwt.jwks.name (RS256), or secrets.jwt.secret.name (HS256); the API refuses to start in prod without one" -}}
{{- end -}}
{{- if ne (empty $v.secrets.s3AccessKeyId.name) (empty $v.secrets.s3SecretAccessKey.name) -}}
{{- fail "secrets.s3AccessKeyId.name and secrets.s3SecretAccessKey.name go together: set both, or neither to use the pods' own cloud identity" -}}
{{- end -}}
{{- range $name := list "asr" "streamAsr" -}}
{{- $d := index $v.serve $name -}}
{{- if gt (float64 $d.minReplicas) (float64 $d.maxReplicas) -}}
{{- fail (printf "serve.%s.minReplicas (%v) is above serve.%s.maxReplicas (%v)" $name $d.minReplicas $name $d.maxReplicas) -}}
{{- end -}}
{{- end -}}
{{- if $v.rayService.enabled -}}
{{- $gpu := $v.rayService.gpuWorkers -}}
{{- if not (or $gpu.enabled $v.rayService.cpuWorkers.enabled) -}}
{{- fail "rayService.gpuWorkers and rayService.cpuWorkers are both disabled: the head runs no model replicas, so the Serve application would never become ready; enable a worker group" -}}
{{- end -}}
{{- range $group := list "gpuWorkers" "cpuWorkers" -}}
{{- $g := index $v.rayService $group -}}
{{- if $g.enabled -}}
{{- if gt (float64 $g.minReplicas) (float64 $g.maxReplicas) -}}
{{- fail (printf "rayService.%s.minReplicas (%v) is above rayService.%s.maxReplicas (%v)" $group $g.minReplicas $group $g.maxReplicas) -}}
{{- end -}}
{{- if or (lt (float64 $g.replicas) (float64 $g.minReplicas)) (gt (float64 $g.replicas) (float64 $g.maxReplicas)) -}}
{{- fail (printf "rayService.%s.replicas (%v) is outside [minReplicas, maxReplicas] = [%v, %v]" $group $g.replicas $g.minReplicas $g.maxReplicas) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $name := list "asr" "streamAsr" -}}
{{- $d := index $v.serve $name -}}
{{- if gt (float64 $d.numGpus) 0.0 -}}
{{- if not $gpu.enabled -}}
{{- fail (printf "serve.%s.numGpus is %v but rayService.gpuWorkers.enabled is false: no Ray pod has a GPU; set serve.%s.numGpus to 0 for CPU inference, or enable the GPU workers" $name $d.numGpus $name) -}}
{{- end -}}
{{- if gt (float64 $d.numGpus) (float64 $gpu.gpusPerPod) -}}
{{- fail (printf "serve.%s.numGpus (%v) is above rayService.gpuWorkers.gpusPerPod (%v): one replica must fit on one GPU pod" $name $d.numGpus $gpu.gpusPerPod) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $v.service.enabled (not $v.rayService.enabled) -}}
{{- fail "service.enabled needs rayService.enabled: the Service selects the RayService's serving pods" -}}
{{- end -}}
{{- if and $v.ingress.enabled (not $v.service.enabled) -}}
{{- fail "ingress.enabled needs service.enabled: the Ingress routes to that Service" -}}
{{- end -}}
{{- if and $v.serviceMonitor.enabled (not $v.service.enabled) -}}
{{- fail "serviceMonitor.enabled needs service.enabled: the ServiceMonitor scrapes /metrics through that Service" -}}
{{- end -}}
{{- if $v.operator.enabled -}}
{{- if not (or $v.operator.job.secretsFromRefs $v.operator.job.extraEnvFromSecrets) -}}
{{- fail "operator.job.secretsFromRefs is false and operator.job.extraEnvFromSecrets is empty: training RayJobs would get no Secret, so no database URL; list the Secrets they should read" -}}
{{- end -}}
{{- if $v.operator.job.secretsFromRefs -}}
{{- range $pair := include "ai2text.secretRefs" . | fromJsonArray -}}
{{- $var := index $pair 0 -}}
{{- $ref := index $pair 1 -}}
{{- if and $ref.name (ne $ref.key $var) -}}
{{- fail (printf "%s.key is %q, not %s: training RayJob pods take the referenced Secrets whole (envFrom), so with operator.job.secretsFromRefs each key must be named after its variable; rename the key, or set operator.job.secretsFromRefs false and list Secrets with such keys in operator.job.extraEnvFromSecrets" (index $pair 2) $ref.key $var) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The container pieces every Ray container shares: env, security, mounts. */}}
{{- define "ai2text.rayContainerCommon" -}}
imagePullPolicy: {{ .Values.image.ray.pullPolicy }}
envFrom:
  - configMapRef:
      name: {{ include "ai2text.configMapName" . }}
env:
  {{- include "ai2text.secretEnv" . | trim | nindent 2 }}
securityContext:
  allowPrivilegeEscalation: false
  # Ray writes its session files and logs under /tmp/ray and its home: the root filesystem
  # stays writable in Ray pods (the operator's is read-only).
  readOnlyRootFilesystem: false
  runAsNonRoot: true
  capabilities:
    drop: [ALL]
volumeMounts:
  - name: dshm
    mountPath: /dev/shm
  - name: home
    mountPath: /var/lib/ai2text
  {{- if include "ai2text.hasJwtFiles" . }}
  - name: jwt
    mountPath: {{ include "ai2text.jwtDir" . }}
    readOnly: true
  {{- end }}
{{- end -}}

{{/* The pod-level pieces every Ray pod shares; call with (dict "root" $ "token" true). */}}
{{- define "ai2text.rayPodCommon" -}}
serviceAccountName: {{ include "ai2text.rayServiceAccount" .root }}
automountServiceAccountToken: {{ .token }}
{{- with .root.Values.image.pullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  # The ray user of the rayproject/ray images (docker/ray.Dockerfile).
  runAsNonRoot: true
  runAsUser: 1000
  runAsGroup: 100
  fsGroup: 100
  seccompProfile:
    type: RuntimeDefault
volumes:
  - name: dshm
    emptyDir:
      medium: Memory
      sizeLimit: {{ .root.Values.rayService.shmSizeLimit }}
  - name: home
    emptyDir:
      sizeLimit: {{ .root.Values.rayService.homeSizeLimit }}
  {{- if include "ai2text.hasJwtFiles" .root }}
  {{- include "ai2text.jwtVolume" .root | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* Scheduling of a pod group; call with a group's values. */}}
{{- define "ai2text.scheduling" -}}
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
