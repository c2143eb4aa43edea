# labgrader-local/redis: Debian's Redis server, run as the redis user with its data in /data (as
# the official image), for docker compose on machines that cannot pull redis.
ARG BASE
FROM ${BASE}
ARG REDIS_VERSION
LABEL org.opencontainers.image.title="redis (labgrader local build)" \
      org.opencontainers.image.description="Redis ${REDIS_VERSION} from Debian's redis-server package; not the Docker official image" \
      org.opencontainers.image.version="${REDIS_VERSION}"
RUN mkdir -p /data && chown redis:redis /data
WORKDIR /data
USER redis
VOLUME /data
EXPOSE 6379
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no"]
