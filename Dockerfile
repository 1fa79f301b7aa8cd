# prospect-relay: slim image, runs as an unprivileged user.
#   docker build -t prospect-relay .
#   docker run -p 2525:2525 -p 8025:8025 -v relay-var:/app/var \
#     -e PROSPECT_RELAY_SMTP__HOST=0.0.0.0 -e PROSPECT_RELAY_WEB__HOST=0.0.0.0 \
#     -e PROSPECT_RELAY_UPSTREAM__HOST=smtp.example.net prospect-relay
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY pyproject.toml README.md ./
COPY proxy ./proxy
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin relay \
    && mkdir -p /app/var /app/config \
    && chown relay:relay /app/var

COPY config ./config

USER relay
VOLUME ["/app/var"]
EXPOSE 2525 8025

# SIGTERM (docker stop) drains in-flight messages for up to smtp.shutdown_grace seconds.
STOPSIGNAL SIGTERM
ENTRYPOINT ["prospect-relay"]
CMD ["serve", "--config", "/app/config/relay.toml"]
