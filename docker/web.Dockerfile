# syntax=docker/dockerfile:1
# The browser client (apps/web): static files and the small server that serves them with its
# config.json and security headers. Not a Nest service, so not the root Dockerfile:
#   docker build -f docker/web.Dockerfile -t acme/web .
# build: install the workspace and `nx build web` (tsc + assets, oauth4webapi vendored).
# final: the build output and zod, the server's one dependency (it has none of its own),
#        owned by root and run as the unprivileged node user.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /workspace
ENV NX_DAEMON=false NX_NO_CLOUD=true CI=true
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx nx build web

FROM ${NODE_IMAGE} AS final
ENV HOST=0.0.0.0
WORKDIR /app
COPY --from=build /workspace/node_modules/zod ./node_modules/zod
COPY --from=build /workspace/dist/apps/web/ ./
COPY --from=build /workspace/docker/healthcheck.js ./
# The image's node user, numeric so that Kubernetes can verify runAsNonRoot.
USER 1000:1000
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["node", "healthcheck.js"]
CMD ["node", "server.mjs"]
