# labgrader-local/golang: Debian with this host's Go distribution, laid out as the official image
# (GOROOT /usr/local/go, GOPATH /go), for machines that cannot pull golang.
ARG BASE
FROM ${BASE}
# The certificate authorities this host trusts beyond Debian's (/usr/local/share/ca-certificates),
# so that builds in the image reach the registries the host reaches, through the same TLS proxies.
COPY ca-certificates/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
ARG GO_VERSION
LABEL org.opencontainers.image.title="golang (labgrader local build)" \
      org.opencontainers.image.description="Go ${GO_VERSION} on Debian; not the Docker official image" \
      org.opencontainers.image.version="${GO_VERSION}"
COPY go /usr/local/go
ENV GOPATH=/go \
    PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /go/bin /go/src && go version
WORKDIR /go
