# Situation Room for a team: one image for the app, the refresh worker and the one-off store
# preparation (see compose.yaml and the README's "Hosting for a team"). Each command is a script
# in scripts/ that the test suite runs as it is (tests/test_hosting.py).
FROM python:3.11-slim

WORKDIR /app

RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first (cached while only the code changes), then the code.
COPY pyproject.toml README.md ./
COPY data_sources ./data_sources
COPY charts.py app.py ./
RUN pip install --no-cache-dir '.[postgres]'
COPY . .

RUN useradd --create-home --uid 10001 situation \
    && mkdir -p /app/data && chown situation /app/data
USER situation

ENV PYTHON=python3 \
    HOST=0.0.0.0 \
    PORT=8501 \
    HTTP_CACHE_DIR=/app/data/http_cache

EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD curl --fail "http://localhost:${PORT}/_stcore/health" || exit 1

ENTRYPOINT ["scripts/start-app"]
