# syntax=docker/dockerfile:1
# prospect-relay image: the locked dependencies and the relay installed into a venv in a
# throwaway stage, copied into a slim runtime that runs as an unprivileged user. See deploy/README.md and deploy/docker-compose.yml.
#
#   docker build -t prospect-relay .
#   docker run --rm -v relay-data:/var/lib/prospect-relay prospect-relay prospect-relay db upgrade
#   docker run --rm -p 2525:2525 -p 8025:8025 -p 127.0.0.1:9025:9025 -v relay-data:/var/lib/prospect-relay \
#     -e PROSPECT_RELAY_UPSTREAM__HOST=smtp.example.net prospect-relay
#
# Layout inside the image (the working directory is /opt/prospect-relay, so the relay's
# relative defaults `config/...` and `var/...` land in the usual Unix places):
#   /etc/prospect-relay/relay.toml, policy.toml   settings and policy (mount your own here)
#   /var/lib/prospect-relay/                      SQLite database, outbox, secret key (volume)

FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY requirements/runtime.lock ./requirements/
COPY proxy ./proxy
# The exact versions of the committed lock, every file's hash checked (the build backend too),
# into a venv the runtime stage copies as is: every image build is the same program.
RUN python -m venv /opt/prospect-relay/venv \
    && /opt/prospect-relay/venv/bin/pip install --require-hashes --no-deps \
        -r requirements/runtime.lock \
    && /opt/prospect-relay/venv/bin/pip install --no-deps --no-build-isolation .


FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/prospect-relay/venv/bin:$PATH \
    # In a container the relay must listen on the container's interfaces, not loopback.
    PROSPECT_RELAY_SMTP__HOST=0.0.0.0 \
    PROSPECT_RELAY_WEB__HOST=0.0.0.0 \
    # The operations listener (/readyz, /metrics) too, for Prometheus on the container
    # network; publish its port only to a private network, never through the public proxy.
    PROSPECT_RELAY_WEB__OPS_HOST=0.0.0.0 \
    PROSPECT_RELAY_LOG__FORMAT=json

COPY --from=builder /opt/prospect-relay/venv /opt/prospect-relay/venv
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/prospect-relay \
        --shell /usr/sbin/nologin prospect-relay \
    && mkdir -p /etc/prospect-relay /var/lib/prospect-relay /opt/prospect-relay \
    && chown prospect-relay:prospect-relay /var/lib/prospect-relay \
    && ln -s /etc/prospect-relay /opt/prospect-relay/config \
    && ln -s /var/lib/prospect-relay /opt/prospect-relay/var

COPY config/relay.toml config/policy.toml /etc/prospect-relay/

WORKDIR /opt/prospect-relay
USER prospect-relay:prospect-relay
VOLUME ["/var/lib/prospect-relay"]
# SMTP, web (unsubscribe pages, /healthz), operations (/healthz, /readyz, /metrics).
EXPOSE 2525 8025 9025

# Liveness only (/healthz): /readyz also checks the database and the upstream, and a shared
# outage must not make every replica "unhealthy" at once; load balancers should use /readyz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PROSPECT_RELAY_WEB__PORT', '8025'), timeout=4)"]

# SIGTERM (docker stop) drains in-flight messages for up to smtp.shutdown_grace seconds:
# give `docker stop` a longer timeout (compose: stop_grace_period). SIGHUP reloads the policy.
STOPSIGNAL SIGTERM
CMD ["prospect-relay", "serve"]
