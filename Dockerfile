# Two images from one build: the app (the last stage, the default target: gunicorn, migrate)
# and nginx with the app's collected static files (`--target nginx`, compose's nginx service).
FROM python:3.11-slim AS web
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Every dependency at the version and hashes of the lock (make lock), the build backend
# (setuptools) included, so the project itself installs without fetching anything.
COPY requirements/lock.txt requirements/lock.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/lock.txt
COPY pyproject.toml ./
COPY advisor ./advisor
COPY assessments ./assessments
RUN pip install --no-cache-dir --no-deps --no-build-isolation .
COPY . .
# collectstatic needs settings to import; the real key comes from the environment at run time.
RUN DEBUG=0 SECRET_KEY=build-only-collectstatic python manage.py collectstatic --noinput
EXPOSE 8000

# nginx serves /static/ from disk: the files collected above, as the app's manifest names them.
# Its configuration is mounted by docker-compose.yml (deploy/nginx/).
FROM nginx:stable-bookworm AS nginx
COPY --from=web /app/staticfiles /srv/advisor/static

# The default target is the app image.
FROM web
