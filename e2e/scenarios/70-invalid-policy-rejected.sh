#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A ClusterTrustPolicy without images is rejected before it is stored (CRD schema / policy webhook).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

kubectl_apply_stdin deny images <<YAML
apiVersion: trustgate.dev/v1alpha1
kind: ClusterTrustPolicy
metadata:
  name: e2e-invalid
spec:
  mode: enforce
YAML
