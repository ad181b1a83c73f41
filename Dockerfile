# Tollgate's worker, Slack/HTTP app and CLI in one image.
#   docker build -t tollgate .
#   docker run --env-file .env tollgate worker      (or: app, setup, codec-server, any CLI command)

# ---- dependencies, with the dev tools the build needs ----
FROM node:20.20.2-bookworm-slim AS deps
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# ---- compile TypeScript and prebuild the workflow bundle, so workers start without bundling ----
# Everything tsconfig.build.json compiles: src, migrations, and the demo's load generator it imports.
# test/e2e/deployment-files.test.ts runs this stage from exactly these COPY lines.
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY examples/load-generator ./examples/load-generator
RUN npm run build:image

# ---- production dependencies only: no compilers, test tools or embedded PostgreSQL (60 MB) ----
FROM node:20.20.2-bookworm-slim AS prod-deps
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime: no compilers, no sources, not root ----
FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production \
    TOLLGATE_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
WORKDIR /app
COPY --from=prod-deps /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY package.json ./
COPY bin ./bin
USER node
ENTRYPOINT ["node", "/app/bin/tollgate"]
CMD ["worker"]
