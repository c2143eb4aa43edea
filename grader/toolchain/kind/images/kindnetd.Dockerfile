# kindnet-lite under kind's kindnetd tag, so kind's own CNI manifest runs it unchanged.
ARG BASE
FROM ${BASE}
COPY kindnet-lite /usr/local/bin/kindnet-lite
ENTRYPOINT ["/usr/local/bin/kindnet-lite"]
