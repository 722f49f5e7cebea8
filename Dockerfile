# Madoguchi: LINE and Slack webhooks for 社協 windows, answered from YAML knowledge.
#
#   docker build -t madoguchi .
#   docker run -p 8000:8000 --env-file madoguchi.env -v madoguchi-data:/var/lib/madoguchi madoguchi
#
# Knowledge is baked in at /app/knowledge; mount your own folder over it
# (-v "$PWD/knowledge:/app/knowledge:ro") and send SIGHUP (docker kill -s HUP)
# after editing to reload without a restart. Behind a TLS-inspecting proxy,
# put its root CA as certs/*.crt before building (see certs/README.md).
# Any Debian bookworm based image with Python 3.11 works as BASE, e.g.
# --build-arg BASE=python:3.11-slim-bookworm.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS base
ENV LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
# Optional corporate CA bundle(s): every certs/*.crt joins the system trust store.
COPY certs/ /usr/local/share/ca-certificates/madoguchi/
RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then \
        apt-get update; \
        apt-get install -y --no-install-recommends python3 python3-venv ca-certificates; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    if ! command -v update-ca-certificates >/dev/null; then \
        apt-get update; apt-get install -y --no-install-recommends ca-certificates; rm -rf /var/lib/apt/lists/*; \
    fi; \
    find /usr/local/share/ca-certificates/madoguchi -type f ! -name '*.crt' -delete; \
    update-ca-certificates; \
    python3 --version

FROM base AS build
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml requirements.lock ./
# Exactly the locked versions, every file checked against its hash (scripts/lock writes the file).
RUN pip install --require-hashes -r requirements.lock
COPY bot/ bot/
COPY adapters/ adapters/
# The Sudachi dictionary comes with the sudachidict-core package: baked in here.
RUN touch README.md && pip install --no-deps '.[serve,ops]' && python -c 'import sudachipy, sudachidict_core'

FROM base
ENV PATH=/opt/venv/bin:$PATH \
    MADOGUCHI_DATA_DIR=/var/lib/madoguchi \
    MADOGUCHI_KNOWLEDGE=/app/knowledge
COPY --from=build /opt/venv /opt/venv
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin madoguchi \
    && mkdir -p /app /var/lib/madoguchi \
    && chown madoguchi:madoguchi /var/lib/madoguchi \
    && chmod 0700 /var/lib/madoguchi
COPY knowledge/ /app/knowledge/
# The installed package looks for knowledge next to itself: point that at /app/knowledge,
# so every command (serve, kb check, ask) uses the baked-in or mounted folder.
RUN ln -s /app/knowledge "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/knowledge" \
    && python -m bot kb check --quiet
WORKDIR /app
USER madoguchi
VOLUME ["/var/lib/madoguchi"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4); sys.exit(0 if r.status == 200 else 1)"]
CMD ["python", "-m", "bot", "serve", "--host", "0.0.0.0", "--port", "8000"]
