# The services around Madoguchi in compose.yaml, each from Debian's own packages on the
# same pinned Debian image that the Python base is built on, so nothing comes from
# other registries:
#   caddy     the HTTPS reverse proxy (Debian's caddy 2.6)
#   redis     shared duplicate-event memory, for several replicas (profile "shared")
#   postgres  shared query log, for several replicas (profile "shared")
#
# Digest: debian:bookworm-slim as recorded in github.com/docker-library/repo-info
# (repos/debian/remote/bookworm-slim.md); its amd64 layer is the first layer of the
# pinned python:3.11.15-slim-bookworm in ../Dockerfile, so it is downloaded once.
ARG DEBIAN=debian:bookworm-slim@sha256:abd67ffcfa541b485a3dff59865ab629aa048a6c613e639d36e7456b0b229241

FROM ${DEBIAN} AS debian
ENV LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive

FROM debian AS caddy
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends caddy ca-certificates; \
    rm -rf /var/lib/apt/lists/*; \
    mkdir -p /data /config; \
    chown caddy:caddy /data /config
# Certificates and the ACME account live in /data: keep it in a volume.
ENV XDG_DATA_HOME=/data XDG_CONFIG_HOME=/config
USER caddy
EXPOSE 80 443
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]

FROM debian AS redis
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends redis-server; \
    rm -rf /var/lib/apt/lists/*
USER redis
EXPOSE 6379
# Only the duplicate-event memory (keys expire after an hour): nothing to persist.
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no", \
     "--dir", "/var/lib/redis"]

FROM debian AS postgres
# No "main" cluster at install time: postgres-start creates the one in PGDATA on first start.
RUN set -eux; \
    mkdir -p /etc/postgresql-common/createcluster.d; \
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/madoguchi.conf; \
    apt-get update; \
    apt-get install -y --no-install-recommends postgresql-15; \
    rm -rf /var/lib/apt/lists/*; \
    mkdir -p /var/lib/postgresql/data; \
    chown postgres:postgres /var/lib/postgresql/data; \
    chmod 0700 /var/lib/postgresql/data
COPY postgres-start /usr/local/bin/postgres-start
ENV PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
CMD ["postgres-start"]
