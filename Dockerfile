# syntax=docker/dockerfile:1
# The currency API on uvicorn, for a container platform: the same app as the Lambda function,
# served by `currency-api serve --aws` (several worker processes, graceful shutdown on SIGTERM,
# JSON log lines, real AWS only: the image holds no emulator). infra/service.py runs it on
# ECS Fargate behind a load balancer; README.md, "Container", says how to build and run it.

ARG PYTHON_IMAGE=python:3.13-slim

# --- build: the locked dependencies and the app in a virtual environment, compiled -------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
RUN python -m pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock README.md ./
# Exactly uv.lock's versions and hashes of the runtime dependencies and the `server` extra
# (uvicorn, httptools): no moto, no dev tools. The venv gets no pip of its own.
RUN python -m uv export --frozen --no-dev --no-emit-project --extra server \
      --format requirements-txt --output-file requirements.txt \
 && python -m venv --without-pip /opt/venv \
 && python -m pip --python /opt/venv/bin/python install --no-cache-dir --require-hashes \
      --only-binary=:all: --requirement requirements.txt
COPY currency_api ./currency_api
COPY handlers ./handlers
COPY spec ./spec
# The app, and spec/ beside its packages (currency_api.app.SPEC_PATH), as in the Lambda asset.
# .pyc for everything, checked by hash so file times do not matter; the embedded emulators'
# module goes (the image serves real AWS only).
RUN python -m pip --python /opt/venv/bin/python install --no-cache-dir --no-deps /src \
 && site="$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
 && cp -r spec "$site/spec" \
 && rm "$site/currency_api/local.py" \
 && /opt/venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash "$site"

# --- run: the slim base, the venv, a user without privileges -----------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="currency-api" \
      org.opencontainers.image.description="Spec-first ISO 4217 currency API (uvicorn)" \
      org.opencontainers.image.licenses="MIT"
# No pip in the image that runs (the venv never had one); a fixed, unprivileged user.
RUN python -m pip uninstall --yes --quiet pip \
 && groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
# PYTHONDONTWRITEBYTECODE stays unset: the .pyc files are compiled at build time.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEB_CONCURRENCY=2
USER 10001:10001
EXPOSE 8000
# The slim image has no curl: the standard library asks /health (urlopen raises on non-2xx).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=3)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["currency-api"]
CMD ["serve", "--aws"]
