FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ANIMATE_METRICS_PORT=9108

WORKDIR /app
COPY pyproject.toml README.md ./
COPY client ./client
COPY bot ./bot
COPY cogs ./cogs
COPY discord_app ./discord_app
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 animate \
    && mkdir -p /app/data \
    && chown animate:animate /app/data

USER 10001
VOLUME ["/app/data"]
EXPOSE 9108
# /healthz answers 200 while the engine's loops run and the database answers (needs ANIMATE_METRICS_PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['ANIMATE_METRICS_PORT'] + '/healthz', timeout=4)"]
CMD ["python", "-m", "bot"]
