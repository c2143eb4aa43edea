# local-path-provisioner's helper pod runs `sh /script/setup` (mkdir, rm): the image base has them.
ARG BASE
FROM ${BASE}
CMD ["/bin/sh"]
