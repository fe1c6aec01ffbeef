#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# trustgate end to end: a kind cluster, a local registry and a notary-server in containers, the
# trustgate image built and `kind load`ed, the chart installed with a policy pinning the test
# notary root, one image signed and others not, then e2e/scenarios/*.sh in order.
#
# Usage: e2e/run.sh [--dry-run] [--keep] [--only SUBSTRING]
#   --dry-run  print every command, run nothing (no Docker needed)
#   --keep     leave the cluster and containers running afterwards
#   --only     run only scenarios whose file name contains SUBSTRING
# Needs: docker, kind, kubectl, helm (4), notary (CLI), curl, jq.
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$E2E_DIR/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$E2E_DIR/lib.sh"

CLUSTER_NAME=${CLUSTER_NAME:-trustgate-e2e}
# The in-cluster registry name is part of every image reference and Notary GUN: keep it fixed.
REGISTRY_NAME=kind-registry
REGISTRY_HOST_PORT=${REGISTRY_HOST_PORT:-5001}
NOTARY_NAME=kind-notary
NOTARY_HOST_PORT=${NOTARY_HOST_PORT:-4443}
REGISTRY_IMAGE=${REGISTRY_IMAGE:-registry:2.8.3}
NOTARY_SERVER_IMAGE=${NOTARY_SERVER_IMAGE:-notary:server-0.7.0}
BASE_TEST_IMAGE=${BASE_TEST_IMAGE:-busybox:1.36.1}
TRUSTGATE_IMAGE=trustgate:e2e
HELM=${HELM:-helm}
KEEP=0
ONLY=''

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) TRUSTGATE_E2E_DRY_RUN=1 ;;
    --keep) KEEP=1 ;;
    --only)
      [ $# -ge 2 ] || die "--only needs a value"
      ONLY=$2
      shift
      ;;
    -h | --help)
      sed -n '3,12p' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
export TRUSTGATE_E2E_DRY_RUN

export RELEASE_NAMESPACE=trustgate
export E2E_NAMESPACE=e2e
export IGNORED_NAMESPACE=e2e-ignored
export SIGNED_IMAGE="${REGISTRY_NAME}:5000/e2e/app:signed"
export UNSIGNED_IMAGE="${REGISTRY_NAME}:5000/e2e/app:unsigned"
export UNTRUSTED_IMAGE="${REGISTRY_NAME}:5000/e2e/untrusted:v1"
GUN="${REGISTRY_NAME}:5000/e2e/app"
PUSH_PREFIX="127.0.0.1:${REGISTRY_HOST_PORT}"
NOTARY_URL="http://127.0.0.1:${NOTARY_HOST_PORT}"

if is_dry_run; then
  WORK_DIR=/tmp/trustgate-e2e.DRYRUN
else
  WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/trustgate-e2e.XXXXXX")
fi

cleanup() {
  local rc=$?
  trap - EXIT
  if [ "$rc" -ne 0 ] && ! is_dry_run; then
    log "collecting diagnostics"
    kubectl -n "$RELEASE_NAMESPACE" get pods -o wide >&2 || true
    kubectl -n "$RELEASE_NAMESPACE" logs -l app.kubernetes.io/name=trustgate --tail=200 --prefix >&2 || true
  fi
  if [ "$KEEP" = 1 ]; then
    log "--keep: cluster ${CLUSTER_NAME} and containers left running; work dir ${WORK_DIR}"
  else
    run kind delete cluster --name "$CLUSTER_NAME" || true
    run docker rm -f "$REGISTRY_NAME" "$NOTARY_NAME" || true
    is_dry_run || rm -rf "$WORK_DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT

require_tools() {
  local tool missing=()
  for tool in docker kind kubectl "$HELM" notary curl jq; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]}"
}

start_registry() {
  log "local registry ${REGISTRY_NAME} on 127.0.0.1:${REGISTRY_HOST_PORT}"
  run docker run -d --restart=always --name "$REGISTRY_NAME" \
    -p "127.0.0.1:${REGISTRY_HOST_PORT}:5000" "$REGISTRY_IMAGE"
  retry 50 0.2 curl -fsS "http://${PUSH_PREFIX}/v2/"
}

start_notary() {
  log "notary-server ${NOTARY_NAME} on 127.0.0.1:${NOTARY_HOST_PORT} (in-memory, local signer)"
  run docker run -d --name "$NOTARY_NAME" --entrypoint notary-server \
    -p "127.0.0.1:${NOTARY_HOST_PORT}:4443" \
    -v "${E2E_DIR}/notary-server-config.json:/etc/trustgate-e2e/server-config.json:ro" \
    "$NOTARY_SERVER_IMAGE" -config=/etc/trustgate-e2e/server-config.json
  retry 50 0.2 curl -fsS "${NOTARY_URL}/_notary_server/health"
}

create_cluster() {
  log "kind cluster ${CLUSTER_NAME}"
  run kind create cluster --name "$CLUSTER_NAME" --config "${E2E_DIR}/kind-config.yaml" --wait 120s
  run docker network connect kind "$REGISTRY_NAME"
  run docker network connect kind "$NOTARY_NAME"
  # containerd on every node pulls kind-registry:5000 over plain HTTP (kind's local-registry recipe).
  local nodes node
  capture nodes kind get nodes --name "$CLUSTER_NAME"
  for node in $nodes; do
    run docker exec "$node" mkdir -p "/etc/containerd/certs.d/${REGISTRY_NAME}:5000"
    print_cmd docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/${REGISTRY_NAME}:5000/hosts.toml"
    if ! is_dry_run; then
      printf '[host."http://%s:5000"]\n' "$REGISTRY_NAME" |
        docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/${REGISTRY_NAME}:5000/hosts.toml"
    fi
  done
}

build_trustgate() {
  log "building ${TRUSTGATE_IMAGE}"
  run docker build -t "$TRUSTGATE_IMAGE" "$REPO_ROOT"
  run kind load docker-image "$TRUSTGATE_IMAGE" --name "$CLUSTER_NAME"
}

# Three single-manifest images that differ only by a label, so each has its own digest.
push_test_images() {
  log "pushing test images"
  local variant ref
  run mkdir -p "${WORK_DIR}/image"
  print_cmd cat "> ${WORK_DIR}/image/Dockerfile"
  if ! is_dry_run; then
    printf 'FROM %s\nARG VARIANT\nLABEL dev.trustgate.e2e.variant=%s\n' "$BASE_TEST_IMAGE" "\${VARIANT}" \
      >"${WORK_DIR}/image/Dockerfile"
  fi
  for variant in app:signed app:unsigned untrusted:v1; do
    ref="${PUSH_PREFIX}/e2e/${variant}"
    run docker build --provenance=false --sbom=false --build-arg "VARIANT=${variant}" -t "$ref" "${WORK_DIR}/image"
    run docker push "$ref"
  done
}

# Signs app:signed with the notary CLI, exactly as `docker trust sign` would record it.
sign_image() {
  log "signing ${SIGNED_IMAGE} in notary GUN ${GUN}"
  local manifest="${WORK_DIR}/signed-manifest.json" size hex root_json
  run curl -fsS -o "$manifest" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' \
    "http://${PUSH_PREFIX}/v2/e2e/app/manifests/signed"
  capture size stat -c %s "$manifest"
  capture hex sha256sum "$manifest"
  hex=${hex%% *}
  export NOTARY_ROOT_PASSPHRASE=e2e-root NOTARY_TARGETS_PASSPHRASE=e2e-targets \
    NOTARY_SNAPSHOT_PASSPHRASE=e2e-snapshot NOTARY_DELEGATION_PASSPHRASE=e2e-delegation
  local -a notary=(notary -s "$NOTARY_URL" -d "${WORK_DIR}/trust")
  run "${notary[@]}" init "$GUN"
  run "${notary[@]}" addhash "$GUN" signed "$size" --sha256 "$hex"
  run "${notary[@]}" publish "$GUN"
  run "${notary[@]}" list "$GUN"
  # Pin the root by the key ID that root.json itself uses (the x509 key ID, not `notary key list`'s).
  capture root_json curl -fsS "${NOTARY_URL}/v2/${GUN}/_trust/tuf/root.json"
  if is_dry_run; then
    ROOT_KEY_ID='<ROOT_KEY_ID>'
  else
    ROOT_KEY_ID=$(jq -r '.signed.roles.root.keyids[0]' <<<"$root_json")
  fi
  log "pinned root key ID ${ROOT_KEY_ID}"
}

install_trustgate() {
  log "installing the chart"
  local registry_ip notary_ip values="${WORK_DIR}/values-e2e.yaml"
  local fmt='{{(index .NetworkSettings.Networks "kind").IPAddress}}'
  capture registry_ip docker inspect -f "$fmt" "$REGISTRY_NAME"
  capture notary_ip docker inspect -f "$fmt" "$NOTARY_NAME"
  print_cmd cat "> $values"
  # Pods cannot resolve container names on the kind network; hostAliases gives trustgate both.
  cat <<EOF | { if is_dry_run; then sed 's/^/    /'; else tee "$values" | sed 's/^/    /' >&2; fi; }
image:
  repository: trustgate
  tag: e2e
  pullPolicy: Never
hostAliases:
  - ip: "${registry_ip}"
    hostnames: ["${REGISTRY_NAME}"]
  - ip: "${notary_ip}"
    hostnames: ["${NOTARY_NAME}"]
config:
  registry:
    insecureRegistries: ["${REGISTRY_NAME}:5000"]
policies:
  - name: e2e-notary
    spec:
      mode: enforce
      images: ["${REGISTRY_NAME}:5000/e2e/**"]
      trustSources:
        - name: e2e-notary
          notaryV1:
            server: "http://${NOTARY_NAME}:4443"
            rootKeys: ["${ROOT_KEY_ID}"]
EOF
  run "$HELM" upgrade --install trustgate "${REPO_ROOT}/charts/trustgate" \
    --namespace "$RELEASE_NAMESPACE" --create-namespace -f "$values" --wait --timeout 5m
  run kubectl -n "$RELEASE_NAMESPACE" rollout status deployment/trustgate --timeout=180s
  run kubectl get clustertrustpolicies -o wide
  run kubectl create namespace "$E2E_NAMESPACE"
  run kubectl create namespace "$IGNORED_NAMESPACE"
  run kubectl label namespace "$IGNORED_NAMESPACE" trustgate.dev/ignore=true
}

run_scenarios() {
  local f name passed=0 failed=0 failures=()
  for f in "$E2E_DIR"/scenarios/*.sh; do
    name=$(basename "$f" .sh)
    if [ -n "$ONLY" ] && [[ "$name" != *"$ONLY"* ]]; then continue; fi
    log "scenario ${name}"
    if bash "$f"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      failures+=("$name")
    fi
  done
  log "scenarios: ${passed} passed, ${failed} failed${failures[*]:+ (${failures[*]})}$(is_dry_run && printf " (dry run: nothing was executed)")"
  [ "$failed" -eq 0 ]
}

is_dry_run || require_tools
start_registry
start_notary
create_cluster
build_trustgate
push_test_images
sign_image
install_trustgate
run_scenarios
