# syntax=docker/dockerfile:1
# One image for every service; compose.yaml picks the service with `command`.
#   docker build -t daemonset-js:local .
#   docker run --rm -e NATS_URL=nats://host:4222 daemonset-js:local                      (controller)
#   docker run --rm -e NATS_URL=... -e NODE_NAME=n1 daemonset-js:local node dist/services/agent/main.js

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` compiles, and the sources are not copied yet.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY libs ./libs
COPY services ./services
COPY bin ./bin
RUN npx tsc -p tsconfig.json \
 && npm prune --omit=dev --ignore-scripts

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# The agent keeps its state under /data/agent; a volume mounted on /data inherits this owner.
RUN mkdir -p /data/agent && chown -R node:node /data
USER node
CMD ["node", "dist/services/controller/main.js"]
