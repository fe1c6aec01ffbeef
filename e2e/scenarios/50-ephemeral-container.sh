#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kubectl debug adds ephemeral containers through pods/ephemeralcontainers: unsigned denied, signed
# allowed. Needs the Pod from 20-signed-pod-admitted.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

expect_cmd deny "denied the request|${UNSIGNED_IMAGE}|TAG_NOT_SIGNED" \
  kubectl -n "$E2E_NAMESPACE" debug pod/signed --image="$UNSIGNED_IMAGE" \
  --container=debug-unsigned -- sleep 5
expect_cmd admit '' \
  kubectl -n "$E2E_NAMESPACE" debug pod/signed --image="$SIGNED_IMAGE" \
  --container=debug-signed -- sleep 5
