# One image for every OrderSaga process. The role is chosen by the arguments (see main.ts):
#   docker run ordersaga api <users|products|orders|payments|notifications|gateway>
#   docker run ordersaga worker <users|products|orders|payments|notifications>
#   docker run ordersaga migrate        docker run ordersaga seed
# There is no build step: TypeScript runs through tsx, which is a runtime dependency.
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app

# Dependencies first, so this layer is cached until the lockfile changes.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev \
    && npm cache clean --force

# Only what runs: the entry point and the code it imports, plus the committed migrations under db/.
COPY tsconfig.json main.ts ./
COPY api ./api
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY db ./db
COPY lib ./lib
COPY scripts/setup-data.ts ./scripts/setup-data.ts
COPY temporal-config ./temporal-config

# The image's own `node` user (uid 1000), numeric so Kubernetes can verify runAsNonRoot.
USER 1000:1000

# HTTP processes listen on 127.0.0.1 unless told otherwise: containers must set BIND_HOST=0.0.0.0.
EXPOSE 3001 3002 3003 3004 3005 8080 9401 9402 9403 9404 9405
ENTRYPOINT ["node", "--import", "tsx", "main.ts"]
