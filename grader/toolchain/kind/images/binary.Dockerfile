# A Kubernetes component (or local-path-provisioner) on labgrader's Debian image base.
# kubeadm's and kind's manifests run these binaries by name, so they go on PATH.
ARG BASE
FROM ${BASE}
ARG BINARY
COPY ${BINARY} /usr/local/bin/${BINARY}
