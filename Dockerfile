# One image for all services (ingest, aggregator, rules, console); the
# service is chosen by the command (see docker-compose.yml), e.g.
#   docker run eip-telemetry:local node services/rules/main.ts
# TypeScript runs on Node's built-in type stripping (no loader, no build step);
# the dev dependencies stay in the image for the infra scripts.

FROM node:24-slim AS deps
# better-sqlite3 compiles its native module when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production \
    DATA_DIR=/data \
    OPS_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# Named volumes mounted on /data inherit this ownership on first use.
RUN mkdir -p /data && chown node:node /data
USER node
CMD ["node", "--max-semi-space-size=2", "services/ingest/main.ts"]
