FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

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
CMD ["python", "-m", "bot"]
