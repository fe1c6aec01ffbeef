#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A Pod whose tag carries no signature in the pinned Notary repository is rejected at once.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

kubectl_apply_stdin deny 'denied the request' "$UNSIGNED_IMAGE" TAG_NOT_SIGNED <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: unsigned
  namespace: ${E2E_NAMESPACE}
spec:
  containers:
    - name: app
      image: ${UNSIGNED_IMAGE}
      command: [sleep, '3600']
YAML
