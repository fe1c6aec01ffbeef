#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CronJobs are checked at creation; a Job created from the signed CronJob runs to completion.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

cronjob() {
  cat <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: $1
  namespace: ${E2E_NAMESPACE}
spec:
  schedule: '0 0 1 1 *'
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: app
              image: $2
              command: ['true']
YAML
}

cronjob unsigned-cron "$UNSIGNED_IMAGE" |
  kubectl_apply_stdin deny 'denied the request' "$UNSIGNED_IMAGE" TAG_NOT_SIGNED
cronjob signed-cron "$SIGNED_IMAGE" | kubectl_apply_stdin admit
run kubectl -n "$E2E_NAMESPACE" create job signed-cron-now --from=cronjob/signed-cron
run kubectl -n "$E2E_NAMESPACE" wait --for=condition=Complete job/signed-cron-now --timeout=120s
