#!/usr/bin/env bash
# The API document tells the truth: Schemathesis's own CLI runs every phase (examples,
# coverage, fuzzing, stateful) with every check against a server with the demo data, once
# with the token of each demo role, and must find no failure.
#
#   tests/api_check.sh              (make api-check; `make test` runs it after pytest)
#   API_CHECK_EXAMPLES=N            test cases per operation in fuzzing and stateful (default 10)
#   API_CHECK_PARALLEL=N            roles checked at once (default 3)
#   API_CHECK_VERBOSE=1             print every role's whole report
#   API_CHECK_ROLES="a b"           only these demo logins (default: the first of each role)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
EXAMPLES=${API_CHECK_EXAMPLES:-10}
PARALLEL=${API_CHECK_PARALLEL:-3}

WORK=$(mktemp -d)
export JIGAI_INSTANCE_DIR="$WORK" DATABASE_URL="sqlite:///$WORK/jigai.sqlite3"
export SECRET_KEY=api-check MAIL_BACKEND=log JIGAI_JOBS_URL="sqlite:///$WORK/jobs.sqlite3"
# Every role's checker sends its unauthenticated probes from this one address, far more than
# a person would: the anonymous throttle (tested on its own in test_accounts_*) is lifted here
# so that those probes get their 401 rather than 429.
export JIGAI_API_ANONYMOUS_LIMIT=1000000
unset REDIS_URL
FLASK="$BIN/flask --app wsgi"
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

$FLASK db upgrade >"$WORK/setup.log" 2>&1
$FLASK demo >"$WORK/demo.txt" 2>>"$WORK/setup.log"
# One login of each demo role (`flask demo` prints `<area>-<role>` per line): the enterprise,
# the bank, every agency role, the county, the administrator.
ROLES=${API_CHECK_ROLES:-$(awk 'NR > 1 && $1 !~ /-2$/ {
  role = $1; sub(/^[a-z]+-/, "", role); sub(/[0-9]+$/, "", role)
  if (!(role in seen)) { seen[role] = 1; print $1 } }' "$WORK/demo.txt")}
PORT=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
"$BIN/python" -m gunicorn -w 3 --threads 2 -b "127.0.0.1:$PORT" wsgi:app >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 150); do
  curl -fs -o /dev/null "$BASE/api/v1/openapi.json" && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.2  # waiting for the server to start
done

mkdir -p test-artifacts
check_as() {  # one role's run, its output in $WORK/st-<login>.log
  local login=$1 token
  token=$($FLASK tokens create "$login" 2>>"$WORK/setup.log" | tail -1)
  "$BIN/st" --config-file tests/schemathesis.toml run "$BASE/api/v1/openapi.json" \
    -H "Authorization: Bearer $token" --checks all \
    --phases examples,coverage,fuzzing,stateful --max-examples "$EXAMPLES" --workers 1 \
    --seed 17 --generation-database none --no-color \
    --report junit --report-junit-path "test-artifacts/api-check-$login.xml" \
    >"$WORK/st-$login.log" 2>&1
}
# A few roles at a time (each Schemathesis process with one worker: its threads share state).
failed=""
set -- $ROLES
while [ $# -gt 0 ]; do
  batch=()
  for _ in $(seq 1 "$PARALLEL"); do
    [ $# -gt 0 ] || break
    batch+=("$1"); shift
  done
  pids=()
  for login in "${batch[@]}"; do check_as "$login" & pids+=($!); done
  for i in "${!batch[@]}"; do
    login=${batch[$i]}
    if wait "${pids[$i]}"; then status=ok; else status=FAILED; failed="$failed $login"; fi
    echo "== st run as $login: $status"
    if [ "$status" = FAILED ] || [ -n "${API_CHECK_VERBOSE:-}" ]; then cat "$WORK/st-$login.log"
    else grep -E "^ *(✅|❌|⏭|🚫|🕛) |passed|failures|warnings in" "$WORK/st-$login.log" || true; fi
  done
done
if grep -q "Traceback" "$WORK/server.log"; then
  echo "the server logged errors:"; grep -B2 -A30 "Traceback" "$WORK/server.log" | head -200
  failed="$failed (server errors)"
fi
if [ -n "$failed" ]; then
  echo "api-check: failures as:$failed"
  exit 1
fi
echo "api-check: no failures for any role"
