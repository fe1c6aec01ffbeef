#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Namespaces labelled trustgate.dev/ignore are outside the webhook's namespaceSelector.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

kubectl_apply_stdin admit <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: unsigned-but-ignored
  namespace: ${IGNORED_NAMESPACE}
spec:
  containers:
    - name: app
      image: ${UNSIGNED_IMAGE}
      command: [sleep, '3600']
YAML
