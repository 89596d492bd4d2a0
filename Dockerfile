# syntax=docker/dockerfile:1
# The imageupdater Argo CD plugin sidecar: imageupdater-cmp + plugin.yaml (+ kubectl and helm
# for rendering Kustomize and Helm apps), run by Argo CD's argocd-cmp-server as user 999. The same
# image runs the Flux side: `imageupdater-flux-source serve` (kustomize/flux-source).
#
#   docker build -t registry.example.com/platform/imageupdater-cmp:v0.1.0 .
#   docker build --build-arg HELM_VERSION= -t ... .                  # without helm
#   docker build --build-arg KUSTOMIZE_VERSION=v5.5.0 -t ... .       # add standalone kustomize
#
# kubectl, kustomize and helm are not Debian packages. The `tools` stage downloads the official
# release binaries (checksums verified) for the versions given below; an empty version leaves
# that tool out. To take them from images you already trust instead, set the versions empty and
# add COPY lines to the runtime stage, e.g.
#   COPY --from=<an image with helm> /path/to/helm /usr/local/bin/helm
# (they are static Go binaries, so any image's copy runs here). The plugin needs kubectl (for
# `kubectl kustomize`) or kustomize for Kustomize apps and helm for charts; without them those
# apps fail with an error naming the missing tool, and plain-manifest apps still work.
# See kustomize/README.md for the installation into Argo CD.

ARG DEBIAN_VERSION=12
ARG KUBECTL_VERSION=v1.32.4
ARG HELM_VERSION=v3.16.4
ARG KUSTOMIZE_VERSION=

# --- build: compile and install into /opt/imageupdater -----------------------------------------
FROM debian:${DEBIAN_VERSION} AS build
WORKDIR /src
# The single list of build dependencies (Debian packages); copied first so this layer is reused
# while only sources change.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh --build && rm -rf /var/lib/apt/lists/*
COPY . .
# Release (-O3), as scripts/build.sh release builds it (scripts/test.sh builds and tests that
# type, so GCC 12's -O3 warnings stay fixed). --strip drops symbols from the installed files.
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DIU_TESTS=OFF -DIU_BENCH=OFF \
 && cmake --build build -j"$(nproc)" \
 && cmake --install build --prefix /opt/imageupdater --strip
# Layout: /opt/imageupdater/bin/imageupdater-cmp (and imageupdater-flux-source),
#         /opt/imageupdater/lib/imageupdater/imageupdater-tls.so (found from ../lib/imageupdater).

# --- tools: kubectl / helm / kustomize release binaries into /tools ----------------------------
FROM debian:${DEBIAN_VERSION}-slim AS tools
ARG KUBECTL_VERSION
ARG HELM_VERSION
ARG KUSTOMIZE_VERSION
ARG TARGETARCH
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
SHELL ["/bin/bash", "-euo", "pipefail", "-c"]
RUN arch="${TARGETARCH:-$(dpkg --print-architecture)}"; mkdir -p /tools /dl; cd /dl; \
    if [[ -n "$KUBECTL_VERSION" ]]; then \
      base="https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${arch}"; \
      curl -fsSLo kubectl "$base/kubectl"; \
      echo "$(curl -fsSL "$base/kubectl.sha256")  kubectl" | sha256sum -c -; \
      install -m 0755 kubectl /tools/kubectl; \
    fi; \
    if [[ -n "$HELM_VERSION" ]]; then \
      f="helm-${HELM_VERSION}-linux-${arch}.tar.gz"; \
      curl -fsSLO "https://get.helm.sh/$f"; \
      echo "$(curl -fsSL "https://get.helm.sh/$f.sha256sum" | cut -d' ' -f1)  $f" | sha256sum -c -; \
      tar -xzf "$f"; install -m 0755 "linux-${arch}/helm" /tools/helm; \
    fi; \
    if [[ -n "$KUSTOMIZE_VERSION" ]]; then \
      f="kustomize_${KUSTOMIZE_VERSION}_linux_${arch}.tar.gz"; \
      base="https://github.com/kubernetes-sigs/kustomize/releases/download/kustomize%2F${KUSTOMIZE_VERSION}"; \
      curl -fsSLO "$base/$f"; \
      curl -fsSL "$base/checksums.txt" | grep " $f\$" | sha256sum -c -; \
      tar -xzf "$f" kustomize; install -m 0755 kustomize /tools/kustomize; \
    fi; \
    rm -rf /dl

# --- runtime ------------------------------------------------------------------------------------
FROM debian:${DEBIAN_VERSION}-slim
# The shared libraries imageupdater-cmp, imageupdater-flux-source and imageupdater-tls.so link
# (ldd, mapped with dpkg -S);
# Poco's Crypto, Util, XML and JSON are named too: a build without --as-needed (the sanitizer
# builds) links them into imageupdater-tls.so. Their own dependencies (libfmt9 with
# libspdlog1.10, libpcre3, zlib1g, libexpat1, libstdc++6) come with them.
# ca-certificates: the system bundle that registry TLS is verified against.
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
      ca-certificates \
      libpocofoundation80 libpoconet80 libpoconetssl80 libpococrypto80 libpocoutil80 \
      libpocoxml80 libpocojson80 libspdlog1.10 \
      libssl3 libre2-9 libyaml-cpp0.7 libsqlite3-0 libgit2-1.5 libarchive13 \
      libjsonnet0 \
 && rm -rf /var/lib/apt/lists/*

# Argo CD runs CMP sidecars as user 999 with HOME /home/argocd.
RUN groupadd --gid 999 argocd \
 && useradd --uid 999 --gid 999 --home-dir /home/argocd --create-home --shell /usr/sbin/nologin argocd

COPY --from=build /opt/imageupdater /opt/imageupdater
COPY --from=tools /tools/ /usr/local/bin/
# Baked in: argocd-cmp-server reads /home/argocd/cmp-server/config/plugin.yaml.
COPY plugin.yaml /home/argocd/cmp-server/config/plugin.yaml

# Fail the build here, not in the cluster, when a runtime library is missing (then add its
# package above), and check that the executable starts.
RUN if ldd /opt/imageupdater/bin/imageupdater-cmp /opt/imageupdater/bin/imageupdater-flux-source \
          /opt/imageupdater/lib/imageupdater/imageupdater-tls.so \
        | grep 'not found'; then echo 'missing runtime library: add its Debian package' >&2; exit 1; fi \
 && /opt/imageupdater/bin/imageupdater-cmp --help >/dev/null \
 && /opt/imageupdater/bin/imageupdater-flux-source --version >/dev/null

ENV HOME=/home/argocd \
    PATH=/opt/imageupdater/bin:/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
USER 999:999
WORKDIR /home/argocd
# No ENTRYPOINT: the Deployment runs /var/run/argocd/argocd-cmp-server (copied from Argo CD's
# own image by the repo-server's copyutil init container), which execs imageupdater-cmp.
