# Hoist: one image for the API server, the Celery worker and the one-shot migrations.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error
# Only the files Hoist serves (ASSET_PACKAGES in app/graphql/view.py; a test keeps this
# list equal to it) and their licences, not the whole node_modules.
RUN mkdir /assets && cd node_modules && cp --parents \
      graphiql/graphiql.min.css graphiql/graphiql.min.js \
      react/umd/react.production.min.js \
      react-dom/umd/react-dom.production.min.js \
      graphiql/LICENSE react/LICENSE react-dom/LICENSE \
      /assets/

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/hoist/.venv UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy \
    PATH=/opt/hoist/.venv/bin:$PATH \
    HOIST_DATA_DIR=/data HOIST_NODE_MODULES=/opt/hoist/assets \
    HOIST_HOST=0.0.0.0 HOIST_PORT=8000
WORKDIR /opt/hoist
# The same uv (UV_VERSION in the Makefile) and uv.lock as `make setup`: exactly the locked
# packages, without the dev extra. Dependencies first, so code changes reuse that layer.
RUN pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-install-project --no-cache --python python3
COPY app ./app
COPY workers ./workers
RUN uv sync --frozen --no-editable --no-cache --python python3
COPY --from=assets /assets ./assets
RUN useradd --system --home /data hoist && mkdir -p /data && chown hoist /data
USER hoist
VOLUME /data
EXPOSE 8000
CMD ["hoist", "serve"]
