# The pod sandbox: pause.c from the k8s.io/kubernetes module, compiled static, as upstream's image.
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
