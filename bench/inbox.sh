#!/usr/bin/env bash
# The inbox at a real team's scale: about 100,000 open negative mentions of
# the last week, and 20 agents asking for their inbox at once (wrk, 20
# connections, 2 threads, 15 s), against `complaint-monitor run` serving the
# API on loopback. Prints one JSON line: requests/s, median and p99 latency,
# and the server's peak RSS.
#
# usage: bench/inbox.sh [BINARY] [PATH]
#   BINARY  the complaint-monitor to measure (default target/release/complaint-monitor),
#           e.g. one built from an older commit in a worktree, for a before/after
#   PATH    what each agent asks for (default: the first page of the inbox)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-target/release/complaint-monitor}
path=${2:-/api/mentions?limit=50}
command -v wrk > /dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d)
server=""
cleanup() {
  [[ -n $server ]] && kill "$server" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/config.toml" <<'EOF'
[[brands]]
name = "Acme Air"
keywords = ["acme air", "acmeair"]

[[brands]]
name = "Globex"
keywords = ["globex"]
EOF
cargo build --release --quiet --example gen_feed
./target/release/examples/gen_feed --mentions 430000 --days 7 --start "$(date -u -d '7 days ago' +%Y-%m-%dT%H:%M:%SZ)" \
  --no-faults --no-incident --out "$work/feed.jsonl"
"$binary" replay "$work/feed.jsonl" --db "$work/inbox.db" --config "$work/config.toml" > /dev/null 2>&1
open=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from mentions where label = '"'negative'"'").fetchone()[0])' "$work/inbox.db")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$binary" run --config "$work/config.toml" --db "$work/inbox.db" --listen "127.0.0.1:$port" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
  sleep 0.1
done
# One request first: it opens the read connections.
curl -fs "http://127.0.0.1:$port$path" > /dev/null
wrk -t2 -c20 -d15s --latency "http://127.0.0.1:$port$path" > "$work/wrk.txt"
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
python3 - "$work/wrk.txt" "$hwm_kb" "$open" "$path" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
def ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
latency = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", text, re.M)}
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(json.dumps({"bench": "inbox", "open_negatives": int(sys.argv[3]), "path": sys.argv[4], "agents": 20,
                  "requests_per_s": round(rate), "median_ms": latency.get("50"), "p99_ms": latency.get("99"),
                  "non_2xx": int(errors.group(1)) if errors else 0,
                  "peak_rss_mb": round(int(sys.argv[2]) / 1024, 1)}))
PY
