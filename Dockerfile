# SPDX-License-Identifier: Apache-2.0
# trustgate image: build with the full Node 24 toolchain, run on distroless Node 24 (no shell, no
# package manager, no npm), as a numeric non-root user, from a read-only root filesystem.
#
# Why distroless over node:24-slim: the webhook gates every Pod in the cluster, so the runtime
# should hold nothing an attacker could use (no sh, apt, npm) and have the fewest CVEs to patch;
# trustgate needs no shell (SPEC §6). Debug with `kubectl debug --image=busybox --target=trustgate`.
# Pin the bases by digest in release builds: --build-arg RUNTIME_IMAGE=…@sha256:…
ARG BUILD_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# ---- build: compile TypeScript with every dependency ---------------------------------------
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx --no-install tsc -p tsconfig.build.json

# ---- prod-deps: production dependencies only, without types and source maps -----------------
FROM ${BUILD_IMAGE} AS prod-deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete \
 && npm cache clean --force

# ---- runtime ---------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
# Files stay root-owned and read-only; the process writes nothing outside the /tmp emptyDir.
USER 65532:65532
EXPOSE 8443 9090
# node itself is PID 1 and receives SIGTERM (npm/npx would not forward it). No HEALTHCHECK:
# Kubernetes probes /healthz and /readyz.
ENTRYPOINT ["/nodejs/bin/node", "--enable-source-maps", "/app/bin/trustgate.js"]
CMD ["serve"]
