# syntax=docker/dockerfile:1
# Rejoinder production image: Node builds the widget, a slim Python stage
# installs the wheel (as the README's `pip install .`), a non-root user runs it.

# Node 24 is the current LTS (20 reached its end of life in April 2026).
FROM node:24-bookworm-slim AS widget
WORKDIR /src/widget
COPY widget/package.json widget/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY widget/ ./
COPY static/ /src/static/
RUN node build.mjs

FROM python:3.13-slim-bookworm AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY server/ server/
COPY --from=widget /src/static/ static/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REJOINDER_HOST=0.0.0.0 \
    REJOINDER_PORT=8000
COPY --from=wheel /wheels /wheels
COPY requirements.lock /tmp/requirements.lock
# The dependencies exactly as locked (versions and hashes): two builds of one commit install the same.
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock \
    && pip install --no-cache-dir --no-deps /wheels/*.whl && rm -rf /wheels /tmp/requirements.lock \
    && useradd --system --uid 10001 --no-create-home rejoinder
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["rejoinder"]
CMD ["serve"]
