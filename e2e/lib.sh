#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Helpers shared by e2e/run.sh and e2e/scenarios/*.sh. With TRUSTGATE_E2E_DRY_RUN=1 every command
# is printed ("+ cmd") and nothing runs, so the whole flow can be checked without Docker.
set -euo pipefail

: "${TRUSTGATE_E2E_DRY_RUN:=0}"

log() { printf '[e2e] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
is_dry_run() { [ "${TRUSTGATE_E2E_DRY_RUN}" = 1 ]; }

# Prints a command the way a person would paste it.
print_cmd() {
  local out='+' arg
  for arg in "$@"; do out+=" $(printf '%q' "$arg")"; done
  printf '%s\n' "$out"
}

# run CMD...: print, then execute unless dry-run.
run() {
  print_cmd "$@"
  if is_dry_run; then return 0; fi
  "$@"
}

# capture VAR CMD...: VAR=$(CMD...), or VAR=<VAR> in dry-run.
capture() {
  local __var=$1; shift
  print_cmd "$@"
  if is_dry_run; then
    printf -v "$__var" '<%s>' "$__var"
    return 0
  fi
  local __out
  __out=$("$@")
  printf -v "$__var" '%s' "$__out"
}

# kubectl_apply_stdin EXPECT [TEXT...]: applies the manifest on stdin. EXPECT is "admit" or "deny";
# for "deny" the command must fail and its output must contain every TEXT (fixed strings).
kubectl_apply_stdin() {
  local expect=$1 manifest out rc=0
  shift
  manifest=$(cat)
  print_cmd kubectl apply -f -
  printf '%s\n' "$manifest" | sed 's/^/    /'
  print_expectation "$expect" "$@"
  if is_dry_run; then return 0; fi
  out=$(printf '%s\n' "$manifest" | kubectl apply -f - 2>&1) || rc=$?
  check_outcome "$expect" "$rc" "$out" "$@"
}

# expect_cmd EXPECT TEXTS CMD...: runs CMD and checks it like kubectl_apply_stdin; TEXTS is a
# '|'-separated list of fixed strings the output must contain on denial ('' for admit).
expect_cmd() {
  local expect=$1 out rc=0
  local -a texts=()
  [ -n "$2" ] && IFS='|' read -r -a texts <<<"$2"
  shift 2
  print_cmd "$@"
  print_expectation "$expect" "${texts[@]}"
  if is_dry_run; then return 0; fi
  out=$("$@" 2>&1) || rc=$?
  check_outcome "$expect" "$rc" "$out" "${texts[@]}"
}

print_expectation() {
  local expect=$1 t
  shift
  if [ "$expect" = deny ]; then
    printf '  # expect: denied; output contains:'
    for t in "$@"; do printf ' "%s"' "$t"; done
    printf '\n'
  else
    printf '  # expect: admitted\n'
  fi
}

check_outcome() {
  local expect=$1 rc=$2 out=$3 t
  shift 3
  printf '%s\n' "$out" | sed 's/^/    | /' >&2
  case "$expect" in
    admit) [ "$rc" -eq 0 ] || die "expected success, got exit $rc" ;;
    deny)
      [ "$rc" -ne 0 ] || die "expected a denial, but the command succeeded"
      for t in "$@"; do
        printf '%s\n' "$out" | grep -Fq -- "$t" || die "denied, but the output lacks \"$t\""
      done
      ;;
    *) die "unknown expectation: $expect" ;;
  esac
}

# retry N SLEEP CMD...: bounded retries for things that become ready asynchronously.
retry() {
  local n=$1 pause=$2 i
  shift 2
  print_cmd "$@"
  if is_dry_run; then return 0; fi
  for ((i = 1; i <= n; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep "$pause"
  done
  die "gave up after $n tries: $*"
}
