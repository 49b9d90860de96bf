# Hoist: one image for the API server and the Celery worker.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HOIST_DATA_DIR=/data HOIST_NODE_MODULES=/opt/hoist/node_modules
WORKDIR /opt/hoist
COPY pyproject.toml README.md ./
COPY app ./app
COPY workers ./workers
RUN pip install --no-cache-dir .
COPY --from=assets /src/node_modules ./node_modules
RUN useradd --system --home /data hoist && mkdir -p /data && chown hoist /data
USER hoist
VOLUME /data
EXPOSE 8000
CMD ["hoist", "serve", "--host", "0.0.0.0", "--port", "8000"]
