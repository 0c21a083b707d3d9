# syntax=docker/dockerfile:1
# One multi-stage build for the whole stack: `server` runs the api and ws roles, `spa` builds the SPA,
# `nginx` serves it and fronts everything. Processes run as non-root users.

# the workspace manifests alone, so dependency layers are rebuilt only when they change
FROM node:22.20.0-bookworm-slim AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY contract/package.json contract/
COPY server/package.json server/
COPY web/package.json web/
COPY topology/package.json topology/
COPY bench/package.json bench/

FROM manifests AS deps
RUN npm ci --no-audit --no-fund

FROM deps AS spa
COPY contract contract
COPY web web
RUN npm run build -w web

# the server compiled once to plain JavaScript (esbuild); production runs no TypeScript compiler
FROM deps AS server-build
COPY contract contract
COPY server server
RUN npm run build -w server

FROM manifests AS server
RUN npm ci --omit=dev --no-audit --no-fund -w server -w contract && npm cache clean --force
COPY contract contract
COPY server/package.json server/
COPY server/scripts server/scripts
COPY --from=server-build /app/server/dist server/dist
USER node
WORKDIR /app/server
ENV API_MODE=production HOST=0.0.0.0 PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
  CMD node -e "fetch('http://127.0.0.1:8000/api/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# start.sh raises the open-files limit (one descriptor per socket), then runs dist/bin/main.js
CMD ["sh", "scripts/start.sh"]

# unprivileged: master and workers run as the nginx user, listening on 8080 (HTTP) and 8443 (HTTPS)
FROM nginxinc/nginx-unprivileged:1.28.0-alpine AS nginx
COPY nginx/templates /etc/nginx/templates
COPY --from=spa /app/web/dist /usr/share/nginx/spa
