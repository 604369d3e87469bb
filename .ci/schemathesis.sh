#!/usr/bin/env bash
# The JSON API against its own OpenAPI document: schemathesis (from PyPI,
# in a throwaway virtual environment) drives a real `run --demo` with every
# check it has, signed in as an admin's API token. Fails on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
work=$(mktemp -d)
cleanup() {
    if [ -n "${service_pid:-}" ]; then kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    echo "== installing python3-venv"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
fi
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"

cargo build -q
bin=target/debug/complaint-monitor
db="$work/api.db"
echo "a password for the API check" | "$bin" users add api-admin --role admin --password-stdin --db "$db" >/dev/null
token=$("$bin" users token api-admin --label schemathesis --db "$db")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" run --demo --listen "127.0.0.1:$port" --db "$db" >"$work/run.log" 2>&1 &
service_pid=$!
for _ in $(seq 1 120); do
    if curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
    sleep 1
done

"$work/venv/bin/schemathesis" --config-file .ci/schemathesis.toml run "http://127.0.0.1:$port/api/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $token" \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" \
    --seed "${SCHEMATHESIS_SEED:-1}" \
    --no-color
