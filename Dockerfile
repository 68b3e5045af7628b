# Situation Room for a team: one image for the app, the refresh worker and the one-off store
# preparation (see compose.yaml and docs/hosting.md). Each command is a script in scripts/ that
# the test suite runs as it is; tests/test_hosting.py also builds this file step by step.
FROM python:3.11-slim

WORKDIR /app

# curl: the health check below; chromium: the chart images, PDF and preview cards (kaleido
# drives Debian's Chromium, BROWSER_PATH below; it never downloads a browser). Not pinned
# (DL3008): the base image's Debian release moves on and
# an exact version soon leaves its archive, which would break the build rather than protect it.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl chromium \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first (cached while only the code changes): requirements.txt is generated from
# pyproject.toml and includes the PostgreSQL driver.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The code: the app runs from /app (streamlit run serve.py: the pages of app.py and the routes of web/; python -m data_sources).
COPY . .

RUN useradd --create-home --uid 10001 situation \
    && mkdir -p /app/data && chown situation /app/data
USER 10001

ENV PYTHON=python3 \
    HOST=0.0.0.0 \
    PORT=8501 \
    HTTP_CACHE_DIR=/app/data/http_cache \
    BROWSER_PATH=/usr/bin/chromium

EXPOSE 8501

# Streamlit answers its health check under server.baseUrlPath (STREAMLIT_SERVER_BASE_URL_PATH)
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["sh", "-c", "curl --fail --silent \"http://localhost:${PORT}/${STREAMLIT_SERVER_BASE_URL_PATH:+${STREAMLIT_SERVER_BASE_URL_PATH}/}_stcore/health\""]

ENTRYPOINT ["scripts/start-app"]
