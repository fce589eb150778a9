# One image for every OrderSaga process. The role is chosen by the arguments (see main.ts):
#   docker run ordersaga api <users|products|orders|payments|notifications|gateway>
#   docker run ordersaga worker <users|products|orders|payments|notifications>
#   docker run ordersaga migrate        docker run ordersaga seed        docker run ordersaga register-search-attributes
#
# Three stages: `deps` installs the production dependencies with only this platform's Temporal core binary,
# `build` compiles the TypeScript to dist/ and prebuilds the workflow bundle (`npm run build`, the same
# command as outside Docker), and the final stage copies both onto a clean Node: no TypeScript loader and
# no webpack run in production. It runs as uid 1000, on a read-only root filesystem (mount a tmpfs at /tmp),
# and listens on every interface.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS deps
ARG TARGETARCH=amd64
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force \
    && case "$TARGETARCH" in \
         amd64) keep=x86_64-unknown-linux-gnu ;; \
         arm64) keep=aarch64-unknown-linux-gnu ;; \
         *) echo "no Temporal core binary for $TARGETARCH" >&2; exit 1 ;; \
       esac \
    && find node_modules/@temporalio/core-bridge/releases -mindepth 1 -maxdepth 1 ! -name "$keep" -exec rm -rf {} + \
    && rm -rf node_modules/@temporalio/core-bridge/sdk-core node_modules/@temporalio/core-bridge/src

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json main.ts ./
COPY contracts ./contracts
COPY lib ./lib
COPY db ./db
COPY activities ./activities
COPY workflows ./workflows
COPY api ./api
COPY workers ./workers
COPY temporal-config ./temporal-config
COPY scripts/build.ts ./scripts/build.ts
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    BIND_HOST=0.0.0.0 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The image's own `node` user (uid 1000), numeric so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 3001 3002 3003 3004 3005 8080 9401 9402 9403 9404 9405
ENTRYPOINT ["node", "dist/main.js"]
