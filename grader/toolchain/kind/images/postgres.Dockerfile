# docker.io/library/postgres:14 for offline clusters: real PostgreSQL, but Debian's packaged
# release (see the labels), with an entrypoint that keeps the official image's contract as far
# as the course uses it: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA, port 5432.
ARG BASE
FROM ${BASE}
ARG PG_MAJOR
ARG PG_PACKAGE_VERSION
LABEL org.opencontainers.image.title="postgres (labgrader offline build)" \
      org.opencontainers.image.description="PostgreSQL ${PG_PACKAGE_VERSION} from Debian's postgresql-${PG_MAJOR} package, tagged postgres:14 for the course fixtures; not the Docker official image" \
      io.labgrader.postgresql.major="${PG_MAJOR}" \
      io.labgrader.postgresql.package-version="${PG_PACKAGE_VERSION}"
# A version-independent PATH entry for postgres, initdb, pg_ctl, psql and pg_isready.
RUN ln -s ${PG_MAJOR} /usr/lib/postgresql/current \
    && mkdir -p /var/lib/postgresql/data /run/postgresql /docker-entrypoint-initdb.d \
    && chown postgres:postgres /var/lib/postgresql /var/lib/postgresql/data /run/postgresql \
    && chmod 700 /var/lib/postgresql/data \
    && chmod 3777 /run/postgresql
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/current/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
VOLUME /var/lib/postgresql/data
EXPOSE 5432
# Smart shutdown, as the official image: postgres finishes on SIGINT without waiting for clients.
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
