# CoreDNS built from its Go module; static, alone at the root like the upstream image.
FROM scratch
COPY coredns /coredns
EXPOSE 53 53/udp
ENTRYPOINT ["/coredns"]
