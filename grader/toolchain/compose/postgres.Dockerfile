# labgrader-local/postgres: Debian's PostgreSQL with an entrypoint that keeps the official image's
# contract (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA, port 5432), for docker compose
# on machines that cannot pull postgres. The tag and the labels name the version it holds.
ARG BASE
FROM ${BASE}
ARG PG_MAJOR
ARG PG_VERSION
LABEL org.opencontainers.image.title="postgres (labgrader local build)" \
      org.opencontainers.image.description="PostgreSQL ${PG_VERSION} from Debian's postgresql-${PG_MAJOR} package; not the Docker official image" \
      org.opencontainers.image.version="${PG_VERSION}"
RUN ln -s ${PG_MAJOR} /usr/lib/postgresql/current \
    && mkdir -p /var/lib/postgresql/data /run/postgresql \
    && chown postgres:postgres /var/lib/postgresql /var/lib/postgresql/data /run/postgresql \
    && chmod 700 /var/lib/postgresql/data \
    && chmod 3777 /run/postgresql
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/current/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
