# syntax=docker/dockerfile:1
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The lock names the @keyward/client workspace: npm ci installs against its manifest.
COPY packages/client/package.json ./packages/client/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gen ./gen
COPY src ./src
# The web console (/console/): bundled by npm run build into dist/console.
COPY console ./console
COPY scripts/build-console.ts ./scripts/build-console.ts
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=50051 HTTP_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/client/package.json ./packages/client/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
COPY bin ./bin
USER node
# 50051: gRPC (grpc-js), 8080: Connect / gRPC-web / JSON over HTTP/1.1 and h2c (connect-node)
EXPOSE 50051 8080
# Asks keyward's own grpc.health.v1.Health/Check over HTTP/2 (no extra binary in the image).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "dist/src/cli/main.js", "healthcheck"]
# A 64 MiB young generation: grpc-js allocates ~20 KB per call, and the default
# (16 MiB) promotes calls still in flight to the old generation (README, Benchmarks).
CMD ["node", "--max-semi-space-size=64", "dist/src/main.js"]
