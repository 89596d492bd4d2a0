#!/bin/sh
# (Copied from ../shared/reference/bench-peers/ so that a checkout can regenerate the workload;
# only these two comment lines were added: the output is the peers' byte for byte.)
# gen-manifests.sh N OUTDIR [SEED]
# Writes a deterministic kustomize benchmark fixture:
#   OUTDIR/images/deployments.yaml  N Deployments in one multi-document stream, each with
#                                   2 containers + 1 initContainer, realistic labels,
#                                   annotations, env, ports, probes, resources, volumes;
#                                   images drawn from 20 repositories of mixed reference styles
#   OUTDIR/images/kustomization.yaml  resources: [deployments.yaml] + an images: transformer
#                                     overriding 5 of the 20 repositories (newTag / digest / newName)
#   OUTDIR/plain/                   the same stream with a kustomization.yaml that has no images:
# Own Park-Miller PRNG (products stay below 2^53, exact in awk doubles), no srand/rand,
# so any POSIX awk should give the same bytes; checked with mawk 1.3.4 (Debian 12 default).
set -eu
N=${1:?usage: gen-manifests.sh N OUTDIR [SEED]}
OUT=${2:?usage: gen-manifests.sh N OUTDIR [SEED]}
SEED=${3:-7}
mkdir -p "$OUT/images" "$OUT/plain"
awk -v N="$N" -v SEED="$SEED" '
function rnd(k) { s = (s * 16807) % 2147483647; return s % k }
function hex(n,   o, i) { o = ""; for (i = 0; i < n; i++) o = o substr("0123456789abcdef", rnd(16) + 1, 1); return o }
BEGIN {
  s = SEED + 0; if (s <= 0) s = 1
  # 20 repositories, mixed reference styles
  for (k = 0; k < 12; k++) img[k] = "ghcr.io/acme/svc-" k ":1." k ".0"
  img[12] = "docker.io/library/nginx:1.25.3"
  img[13] = "redis:7.2-alpine"
  img[14] = "quay.io/prometheus/node-exporter:v1.7.0"
  img[15] = "registry.k8s.io/ingress-nginx/controller:v1.9.4"
  img[16] = "127.0.0.1:5000/tools/busybox:1.36"
  img[17] = "gcr.io/distroless/static:nonroot"
  img[18] = "public.ecr.aws/acme/envoy:v1.28.0@sha256:" "5d2c7a9a1d3e4f60718293a4b5c6d7e8f90123456789abcdef0123456789abcd"
  img[19] = "docker.io/acme/log-shipper:2.4.1"
  split("backend frontend worker gateway cron", comp, " ")
  split("debug info warn", lvl, " ")
  split("50m 100m 250m 500m", cpu, " ")
  split("64Mi 128Mi 256Mi 512Mi", mem, " ")
  for (i = 0; i < N; i++) {
    name = sprintf("svc-%05d", i)
    team = "team-" rnd(12)
    ver = rnd(4) "." rnd(30) "." rnd(20)
    c = comp[rnd(5) + 1]
    reps = 1 + rnd(6)
    print "---"
    print "apiVersion: apps/v1"
    print "kind: Deployment"
    print "metadata:"
    print "  name: " name
    print "  namespace: " team
    print "  labels:"
    print "    app.kubernetes.io/name: " name
    print "    app.kubernetes.io/instance: " name "-prod"
    print "    app.kubernetes.io/version: \"" ver "\""
    print "    app.kubernetes.io/component: " c
    print "    app.kubernetes.io/part-of: acme-platform"
    print "    app.kubernetes.io/managed-by: kustomize"
    print "    acme.io/team: " team
    print "  annotations:"
    print "    acme.io/owner: \"" team "@acme.example\""
    print "    acme.io/runbook: https://runbooks.acme.example/" team "/" name
    print "    acme.io/description: >-"
    print "      " name " serves the " c " tier of the acme platform; paged via " team "."
    print "    prometheus.io/scrape: \"true\""
    print "    prometheus.io/port: \"9090\""
    print "spec:"
    print "  replicas: " reps
    print "  revisionHistoryLimit: 5"
    print "  selector:"
    print "    matchLabels:"
    print "      app.kubernetes.io/name: " name
    print "      app.kubernetes.io/instance: " name "-prod"
    print "  strategy:"
    print "    type: RollingUpdate"
    print "    rollingUpdate:"
    print "      maxSurge: 25%"
    print "      maxUnavailable: 0"
    print "  template:"
    print "    metadata:"
    print "      labels:"
    print "        app.kubernetes.io/name: " name
    print "        app.kubernetes.io/instance: " name "-prod"
    print "        app.kubernetes.io/component: " c
    print "      annotations:"
    print "        checksum/config: " hex(64)
    print "        kubectl.kubernetes.io/default-container: app"
    print "    spec:"
    print "      serviceAccountName: " name
    print "      terminationGracePeriodSeconds: 30"
    print "      securityContext:"
    print "        runAsNonRoot: true"
    print "        runAsUser: 10001"
    print "        fsGroup: 10001"
    print "      initContainers:"
    print "      - name: migrate"
    print "        image: " img[rnd(20)]
    print "        command: [\"/bin/migrate\", \"--up\", \"--timeout=60s\"]"
    print "        env:"
    print "        - name: DB_HOST"
    print "          value: postgres." team ".svc.cluster.local"
    print "        - name: DB_PASSWORD"
    print "          valueFrom:"
    print "            secretKeyRef:"
    print "              name: " name "-db"
    print "              key: password"
    print "        resources:"
    print "          requests:"
    print "            cpu: 50m"
    print "            memory: 64Mi"
    print "          limits:"
    print "            memory: 128Mi"
    print "      containers:"
    print "      - name: app"
    print "        image: " img[rnd(20)]
    print "        imagePullPolicy: IfNotPresent"
    print "        args:"
    print "        - --port=8080"
    print "        - --metrics-port=9090"
    print "        - --log-level=" lvl[rnd(3) + 1]
    print "        ports:"
    print "        - name: http"
    print "          containerPort: 8080"
    print "          protocol: TCP"
    print "        - name: metrics"
    print "          containerPort: 9090"
    print "          protocol: TCP"
    print "        env:"
    print "        - name: SERVICE_NAME"
    print "          value: " name
    print "        - name: POD_NAMESPACE"
    print "          valueFrom:"
    print "            fieldRef:"
    print "              fieldPath: metadata.namespace"
    print "        - name: GOMAXPROCS"
    print "          valueFrom:"
    print "            resourceFieldRef:"
    print "              resource: limits.cpu"
    print "        - name: FEATURE_FLAGS"
    print "          value: \"checkout-v2,search-ranking,flag-" rnd(100) "\""
    print "        - name: UPSTREAM_URL"
    print "          value: http://svc-" sprintf("%05d", rnd(N)) "." team ".svc.cluster.local:8080"
    print "        resources:"
    print "          requests:"
    print "            cpu: " cpu[rnd(4) + 1]
    print "            memory: " mem[rnd(4) + 1]
    print "          limits:"
    print "            cpu: \"" (1 + rnd(4)) "\""
    print "            memory: 1Gi"
    print "        livenessProbe:"
    print "          httpGet:"
    print "            path: /healthz"
    print "            port: http"
    print "          initialDelaySeconds: 10"
    print "          periodSeconds: 10"
    print "        readinessProbe:"
    print "          httpGet:"
    print "            path: /ready"
    print "            port: http"
    print "          periodSeconds: 5"
    print "        volumeMounts:"
    print "        - name: config"
    print "          mountPath: /etc/" name
    print "          readOnly: true"
    print "        - name: tmp"
    print "          mountPath: /tmp"
    print "      - name: sidecar"
    print "        image: " img[rnd(20)]
    print "        args: [\"--config=/etc/sidecar/config.yaml\"]"
    print "        ports:"
    print "        - name: admin"
    print "          containerPort: 15000"
    print "        resources:"
    print "          requests:"
    print "            cpu: 10m"
    print "            memory: 32Mi"
    print "          limits:"
    print "            memory: 128Mi"
    print "        securityContext:"
    print "          allowPrivilegeEscalation: false"
    print "          readOnlyRootFilesystem: true"
    print "          capabilities:"
    print "            drop: [\"ALL\"]"
    print "      volumes:"
    print "      - name: config"
    print "        configMap:"
    print "          name: " name "-config"
    print "      - name: tmp"
    print "        emptyDir: {}"
  }
}' > "$OUT/images/deployments.yaml"
cp "$OUT/images/deployments.yaml" "$OUT/plain/deployments.yaml"
cat > "$OUT/plain/kustomization.yaml" <<'K'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployments.yaml
K
cat > "$OUT/images/kustomization.yaml" <<'K'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployments.yaml
images:
- name: ghcr.io/acme/svc-0
  newTag: 1.2.3
- name: ghcr.io/acme/svc-1
  digest: sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0
- name: ghcr.io/acme/svc-2
  newName: registry.acme.example/mirror/svc-2
  newTag: 2.0.0
- name: docker.io/library/nginx
  newTag: 1.27.0
- name: 127.0.0.1:5000/tools/busybox
  newTag: "1.37"
K
