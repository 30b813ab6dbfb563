# Kazi: one image for `kazi serve`, `kazi worker` and `kazi migrate` (docs/operations.md).
#   docker build -t kazi .
#   docker compose up          # PostgreSQL, Redis, servers and workers (compose.yaml)

# The browser assets (htmx, Sortable, dagre) come from npm, pinned by package-lock.json.
FROM node:22-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KAZI_BIND=0.0.0.0:8000 \
    KAZI_VAR_DIR=/var/lib/kazi \
    KAZI_CONFIG_DIR=/etc/kazi/configs \
    KAZI_LOG_FORMAT=json \
    KAZI_REQUIRE_SERVICES=1
RUN useradd --system --uid 10001 --home-dir /var/lib/kazi --create-home kazi
WORKDIR /app
COPY pyproject.toml README.md ./
COPY engine engine
COPY dsl dsl
COPY connectors connectors
COPY ui ui
COPY --from=assets /src/node_modules/htmx.org/dist/htmx.min.js \
                   /src/node_modules/sortablejs/Sortable.min.js \
                   /src/node_modules/@dagrejs/dagre/dist/dagre.min.js \
                   ui/static/vendor/
RUN pip install . && rm -rf /app/build
# The sample workspaces; mount your own folder over /etc/kazi/configs.
COPY configs /etc/kazi/configs
USER kazi
EXPOSE 8000
ENTRYPOINT ["kazi"]
CMD ["serve"]
