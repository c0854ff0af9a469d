# session-bot: gunicorn serving app:app as a non-root user. The same image runs the worker
# (`python -m bot.worker`) and the release step (`flask --app app db upgrade`): docker-compose.yml.
# Linted with hadolint in `make test` (tests/test_deploy_files.py).

FROM python:3.11-slim-bookworm AS build
# Wheels only, into a virtual environment the final stage copies whole: no compiler in the image.
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install --no-cache-dir --only-binary=:all: -r /tmp/requirements.txt

FROM python:3.11-slim-bookworm
RUN useradd --create-home --uid 10001 --user-group bot
COPY --from=build /venv /venv
WORKDIR /app
COPY app.py gunicorn.conf.py ./
COPY bot ./bot
COPY config ./config
# The embedded default keeps its SQLite file here; a deployment points DATABASE_URL at PostgreSQL.
RUN mkdir /app/instance && chown 10001:10001 /app/instance
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=3000
USER 10001:10001
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
CMD ["gunicorn", "app:app"]
