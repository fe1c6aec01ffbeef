#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The signed tag is admitted and the Pod runs (later scenarios attach ephemeral containers to it).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

kubectl_apply_stdin admit <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: signed
  namespace: ${E2E_NAMESPACE}
spec:
  containers:
    - name: app
      image: ${SIGNED_IMAGE}
      command: [sleep, '3600']
YAML
run kubectl -n "$E2E_NAMESPACE" wait --for=condition=Ready pod/signed --timeout=120s
