# PostgreSQL for vendange, from Debian's postgresql package on the same base
# as the service images (users and tests run the same thing).
#   docker build -f deploy/postgres.Dockerfile -t vendange-postgres deploy/docker
# Contract (deploy/docker/postgres-entrypoint.sh):
#   POSTGRES_PASSWORD  required on first start: password of POSTGRES_USER
#   POSTGRES_USER      default postgres (superuser)
#   POSTGRES_DB        default vendange (created on first start)
#   PGDATA             /var/lib/postgresql/data (mount a volume there)
#   first start (empty PGDATA): initdb (UTF-8, scram-sha-256 over TCP), the
#   database is created; later starts just run the server.
#   healthcheck: pg_isready on 127.0.0.1:5432. Listens on 5432, all addresses.
#   stop signal SIGINT (fast shutdown: transactions roll back, exit 0).
ARG BASE=debian:bookworm-slim
FROM ${BASE}
COPY packages-postgres.txt /tmp/
RUN set -eu; pkgs=$(sed 's/#.*//' /tmp/packages-postgres.txt | tr -s ' \n' ' '); \
    if ! dpkg-query -W $pkgs >/dev/null 2>&1; then \
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends $pkgs && rm -rf /var/lib/apt/lists/*; fi; \
    install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data; \
    install -d -o postgres -g postgres -m 2775 /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/15/bin:$PATH LANG=C.UTF-8
USER postgres
EXPOSE 5432
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --timeout=5s --retries=12 \
    CMD pg_isready -q -h 127.0.0.1 -p 5432 -U "${POSTGRES_USER:-postgres}"
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
CMD ["postgres"]
