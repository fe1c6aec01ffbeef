#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A Pod from a repository with no trust data at all is rejected (NO_TRUST_DATA).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

kubectl_apply_stdin deny 'denied the request' "$UNTRUSTED_IMAGE" NO_TRUST_DATA <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: untrusted
  namespace: ${E2E_NAMESPACE}
spec:
  containers:
    - name: app
      image: ${UNTRUSTED_IMAGE}
      command: [sleep, '3600']
YAML
