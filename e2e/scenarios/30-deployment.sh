#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Deployments are checked themselves (not only their Pods): unsigned denied, signed rolls out.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

deployment() {
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
  namespace: ${E2E_NAMESPACE}
spec:
  replicas: 1
  selector:
    matchLabels: { app: $1 }
  template:
    metadata:
      labels: { app: $1 }
    spec:
      containers:
        - name: app
          image: $2
          command: [sleep, '3600']
YAML
}

deployment unsigned-deploy "$UNSIGNED_IMAGE" |
  kubectl_apply_stdin deny 'denied the request' "$UNSIGNED_IMAGE" TAG_NOT_SIGNED
deployment signed-deploy "$SIGNED_IMAGE" | kubectl_apply_stdin admit
run kubectl -n "$E2E_NAMESPACE" rollout status deployment/signed-deploy --timeout=120s
