# syntax=docker/dockerfile:1
# One image recipe for every service:
#   docker build --build-arg APP=order -t acme/order .
# build: install the workspace and `nx build` the app; webpack writes main.js and
#        a package.json + package-lock.json of the app's own dependencies.
# deps:  install those production dependencies, nothing else.
# final: a slim Node LTS image with the app, owned by root and run as the
#        unprivileged node user: no sources, no dev dependencies, no npm cache.
# Node 24: its AsyncLocalStorage (token forwarding, request-scoped logs) needs no
# promise hooks, which on Node 20 and 22 tax every promise of the process.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /workspace
ENV NX_DAEMON=false NX_NO_CLOUD=true CI=true
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ARG APP
RUN test -n "${APP}" || (echo "--build-arg APP=<service> is required" >&2 && exit 1)
RUN npx nx build "${APP}" --configuration=production
# What the final image needs: the bundle, its dependency manifest, the health
# check, and the files an app reads at run time (apps/<app>/config, if it has one).
# Never apps/<app>/dev: development-only data such as the auth-server's dev users.
RUN mkdir -p /out/apps \
 && cp "dist/apps/${APP}/main.js" "dist/apps/${APP}/package.json" "dist/apps/${APP}/package-lock.json" /out/ \
 && cp docker/healthcheck.js /out/ \
 && if [ -d "apps/${APP}/config" ]; then mkdir -p "/out/apps/${APP}" && cp -r "apps/${APP}/config" "/out/apps/${APP}/"; fi

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=build /out/package.json /out/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS final
# glibc gives each thread that allocates (V8's compilers and GC, libuv's pool) an arena of its
# own, up to 8 per core of the host, whatever the container's CPU limit; memory freed there is
# rarely returned. With two, each service idled 6-11 MB lower after load on Node 20, for no
# CPU measured (docs/BENCHMARKS.md).
ENV NODE_ENV=production HOST=0.0.0.0 MALLOC_ARENA_MAX=2
WORKDIR /app
# Owned by root, read-only to the process: the container runs with a read-only root filesystem.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /out/ ./
# The image's node user, numeric so that Kubernetes can verify runAsNonRoot.
USER 1000:1000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "healthcheck.js"]
CMD ["node", "main.js"]
