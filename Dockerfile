# syntax=docker/dockerfile:1.7
# One image per service, built from the repository root:
#   docker build --build-arg SERVICE=chat -t chat .
# SERVICE is the catalog name (services.yaml): chat, scenario, watch or migrate_session.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
ARG UV_VERSION=0.13.8
RUN test -n "${SERVICE}" || { echo "build-arg SERVICE is required (chat, scenario, watch, migrate_session)" >&2; exit 1; }
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# The workspace's manifests first (uv needs every member's pyproject to read the lockfile), so the
# dependency layer is rebuilt only when the lockfile or a manifest changes.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/pyproject.toml
COPY functions/chat/pyproject.toml functions/chat/pyproject.toml
COPY functions/scenario/pyproject.toml functions/scenario/pyproject.toml
COPY functions/watch/pyproject.toml functions/watch/pyproject.toml
COPY functions/migrate_session/pyproject.toml functions/migrate_session/pyproject.toml
# Only this service's locked dependencies (its workspace member and the shared package's), no dev group.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package "wr-$(echo "${SERVICE}" | tr _ -)"
COPY shared/ shared/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "wr-$(echo "${SERVICE}" | tr _ -)"

FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid app --no-create-home app
WORKDIR /app
COPY --from=build --chown=app:app /app/.venv /app/.venv
COPY --chown=app:app functions/__init__.py functions/__init__.py
COPY --chown=app:app functions/${SERVICE}/ functions/${SERVICE}/
# The catalog is read from the working directory (catalog.py), as the load balancer's routes are.
COPY --chown=app:app services.yaml services.yaml
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SERVICE=${SERVICE} \
    PORT=8080
USER app:app
EXPOSE 8080
# Cloud Run sets PORT; shell form so it expands. exec keeps uvicorn PID 1 so SIGTERM drains requests.
CMD ["sh", "-c", "exec uvicorn --factory \"functions.${SERVICE}.main:create\" --host 0.0.0.0 --port \"${PORT}\" --no-server-header --no-proxy-headers --timeout-graceful-shutdown 8"]
