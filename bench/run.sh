#!/usr/bin/env bash
# Benchmarks. usage: bench/run.sh [sentiment|replay|matching|inbox|digest|all]   (default: all)
# Prints a table and writes bench/results/latest.json.
#   sentiment: our VADER vs the reference vaderSentiment 3.3.2 (installed into a
#              throwaway virtual environment), one thread, same texts.
#   replay:    end-to-end replay (parse, match, score, reach, store, detect) of
#              generated feeds of 10k, 100k and 1M mentions into fresh SQLite
#              files, with peak RSS; and the ceiling: the same rows stored by the
#              same writer with the same schema and batching, enriched beforehand.
#   matching:  brand matching against 10, 100 and 1,000 brands of 10 keywords,
#              and the same brands as 20-term Boolean queries.
#   inbox:     the inbox API over ~100,000 open negatives with 20 agents at once
#              (bench/inbox.sh; needs wrk).
#   digest:    one day's digest in a database holding a year of mentions
#              (2M generated mentions; building it takes about a minute).
#   shared:    live ingestion into one PostgreSQL (a throwaway cluster from the
#              system's binaries) by 1, 2 and 3 `run` processes sharing 300
#              sources of a local fake API (1,000 items each), the time for
#              a killed process's sources to be polled again, and replay of the
#              same generated 100k-mention feed into SQLite and into PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=()

cargo build --release --quiet --example bench_sentiment --example gen_feed --example bench_store \
  --example bench_matching --bin complaint-monitor

if [[ $what == sentiment || $what == all ]]; then
  python3 bench/gen_texts.py 20000 7 > "$work/texts.jsonl"
  # Both timed the same way: the best of five passes over the same texts.
  ours=$(./target/release/examples/bench_sentiment "$work/texts.jsonl" "$work/ours.txt" 5)
  echo "ours:      $ours"
  if python3 -m venv "$work/venv" >/dev/null 2>&1 && "$work/venv/bin/pip" install -q vaderSentiment==3.3.2 >/dev/null 2>&1; then
    ref=$("$work/venv/bin/python" bench/vader_reference.py "$work/texts.jsonl" "$work/ref.txt" 5)
    echo "reference: $ref"
    divergent=$(paste "$work/ours.txt" "$work/ref.txt" | awk '{d=$1-$2; if (d<0) d=-d; if (d>0.001) n++} END {print n+0}')
    results+=("$(python3 - "$ours" "$ref" "$divergent" <<'PY'
import json, sys
ours, ref, div = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
print(json.dumps({"bench": "sentiment", "texts": ours["texts"], "ours_per_s": round(ours["texts_per_second"]),
                  "reference_per_s": round(ref["texts_per_second"]),
                  "ratio": round(ours["texts_per_second"] / ref["texts_per_second"], 1), "divergent": div}))
PY
)")
  else
    echo "sentiment: pip or venv unavailable, reference comparison skipped"
    results+=("$(python3 -c 'import json,sys; o=json.loads(sys.argv[1]); print(json.dumps({"bench":"sentiment","texts":o["texts"],"ours_per_s":round(o["texts_per_second"]),"reference":"skipped"}))' "$ours")")
  fi
fi

if [[ $what == replay || $what == all ]]; then
  for n in 10000 100000 1000000; do
    days=$(( n / 30000 + 1 ))
    ./target/release/examples/gen_feed --mentions "$n" --days "$days" --no-faults --out "$work/feed.jsonl"
    rm -f "$work/replay.db"*
    /usr/bin/time -v -o "$work/time.txt" ./target/release/complaint-monitor replay "$work/feed.jsonl" \
      --db "$work/replay.db" --json > "$work/summary.json" 2>/dev/null
    rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.txt")
    rm -f "$work/ceiling.db"*
    ./target/release/examples/bench_store "$work/feed.jsonl" "$work/ceiling.db" > "$work/ceiling.json"
    results+=("$(python3 - "$work/summary.json" "$rss_kb" "$n" "$work/ceiling.json" <<'PY'
import json, sys
# The demo config's stdout channel prints notifications first; the summary is last.
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
c = json.load(open(sys.argv[4]))
stored_per_s = s["stored"] / s["elapsed_seconds"]
print(json.dumps({"bench": "replay", "mentions": int(sys.argv[3]), "lines": s["lines"], "stored": s["stored"],
                  "lines_per_s": round(s["lines_per_second"]), "stored_per_s": round(stored_per_s),
                  "ceiling_rows_per_s": round(c["rows_per_second"]),
                  "ceiling_over_pipeline": round(c["rows_per_second"] / stored_per_s, 2),
                  "peak_rss_mb": round(int(sys.argv[2]) / 1024, 1)}))
PY
)")
    echo "${results[-1]}"
  done
fi

if [[ $what == matching || $what == all ]]; then
  ./target/release/examples/gen_feed --mentions 100000 --no-faults --out "$work/match.jsonl"
  while read -r line; do
    results+=("$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r["bench"]="matching"; print(json.dumps(r))' "$line")")
    echo "${results[-1]}"
  done < <(./target/release/examples/bench_matching "$work/match.jsonl")
fi

if [[ $what == inbox || $what == all ]]; then
  results+=("$(bench/inbox.sh target/release/complaint-monitor | tail -1)")
  echo "${results[-1]}"
fi

if [[ $what == digest || $what == all ]]; then
  ./target/release/examples/gen_feed --mentions 2000000 --days 365 --start 2025-11-20T00:00:00Z --no-faults \
    --out "$work/year.jsonl"
  ./target/release/complaint-monitor replay "$work/year.jsonl" --db "$work/year.db" > /dev/null 2>&1
  rm -f "$work/year.jsonl"
  best=$(python3 - "$work" <<'PY'
import subprocess, sys, time
work = sys.argv[1]
runs = []
for _ in range(3):
    start = time.perf_counter()
    subprocess.run(["./target/release/complaint-monitor", "digest", "--db", f"{work}/year.db", "--date", "2026-06-15",
                    "--format", "html", "--out", f"{work}/day.html"], check=True)
    runs.append(time.perf_counter() - start)
print(min(runs))
PY
)
  stored=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from mentions").fetchone()[0])' "$work/year.db")
  results+=("$(python3 -c 'import json,sys; print(json.dumps({"bench":"digest","stored_mentions":int(sys.argv[2]),"seconds":round(float(sys.argv[1]),3)}))' "$best" "$stored")")
  echo "${results[-1]}"
fi

if [[ $what == shared || $what == all ]]; then
  cargo build --release --quiet --example bench_shared
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -x $pgbin/initdb ]] || { echo "shared: needs PostgreSQL's server binaries (apt-get install postgresql)"; exit 1; }
  # initdb refuses root: the cluster belongs to the postgres user then.
  as_owner() { if [[ $EUID == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  chmod 755 "$work"
  mkdir "$work/pg"
  [[ $EUID == 0 ]] && chown postgres "$work/pg"
  as_owner "$pgbin/initdb" -D "$work/pg" -A trust -U cm > /dev/null
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg/log" -w \
    -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=100" start > /dev/null
  trap 'as_owner "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop > /dev/null 2>&1; rm -rf "$work"' EXIT
  while read -r line; do
    results+=("$line")
    echo "$line"
  done < <(./target/release/examples/bench_shared --pg "postgres://cm@127.0.0.1:$port/postgres")
  # Replay into a database of its own (the one above may still hold the
  # killed process's leases, and replay refuses a shared database).
  as_owner "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U cm replay
  ./target/release/examples/gen_feed --mentions 100000 --days 4 --no-faults --out "$work/shared-feed.jsonl"
  rm -f "$work/shared-replay.db"*
  ./target/release/complaint-monitor replay "$work/shared-feed.jsonl" --db "$work/shared-replay.db" --json \
    > "$work/sqlite-summary.json" 2>/dev/null
  ./target/release/complaint-monitor replay "$work/shared-feed.jsonl" --db "postgres://cm@127.0.0.1:$port/replay" --json \
    > "$work/pg-summary.json" 2>/dev/null
  results+=("$(python3 - "$work/sqlite-summary.json" "$work/pg-summary.json" <<'PY'
import json, sys
# The demo config's stdout channel prints notifications first; the summary is last.
sqlite, pg = (json.loads(open(p).read().strip().splitlines()[-1]) for p in sys.argv[1:3])
assert sqlite["stored"] == pg["stored"], (sqlite["stored"], pg["stored"])
print(json.dumps({"bench": "shared_replay", "lines": pg["lines"], "stored": pg["stored"],
                  "sqlite_lines_per_s": round(sqlite["lines_per_second"]),
                  "postgres_lines_per_s": round(pg["lines_per_second"]),
                  "postgres_over_sqlite": round(pg["lines_per_second"] / sqlite["lines_per_second"], 2)}))
PY
)")
  echo "${results[-1]}"
fi

mkdir -p bench/results
python3 - "$(nproc)" "$(awk '/MemTotal/ {print $2}' /proc/meminfo)" "${results[@]}" > "$work/latest.json" <<'PY'
import json, os, sys
rows = [json.loads(r) for r in sys.argv[3:]]
machine = {"cores": int(sys.argv[1]), "memory_gib": round(int(sys.argv[2]) / 2**20, 1),
           "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")}
# A run of some benches keeps the others' last figures when they were
# measured on the same machine (shared_ingest and shared_takeover are one bench).
family = lambda bench: bench.split("_")[0]
ran = {family(r["bench"]) for r in rows}
path = "bench/results/latest.json"
if os.path.exists(path):
    previous = json.load(open(path))
    if previous.get("machine") == machine:
        rows = [r for r in previous.get("results", []) if family(r["bench"]) not in ran] + rows
print(json.dumps({"machine": machine, "results": rows}, indent=2))
PY
mv "$work/latest.json" bench/results/latest.json
echo
python3 - <<'PY'
import json
d = json.load(open("bench/results/latest.json"))
m = d["machine"]
print(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB")
for r in d["results"]:
    if r["bench"] == "sentiment":
        ref = r.get("reference_per_s", "skipped")
        print(f"sentiment  {r['texts']:>9} texts  ours {r['ours_per_s']:>9}/s  reference {ref}/s  ratio {r.get('ratio', '-')}x  divergent {r.get('divergent', '-')}")
    elif r["bench"] == "replay":
        print(f"replay     {r['mentions']:>9} mentions  {r['lines_per_s']:>9} lines/s  {r['stored_per_s']:>9} stored/s  "
              f"ceiling {r['ceiling_rows_per_s']:>9} rows/s (ceiling/pipeline {r['ceiling_over_pipeline']})  peak RSS {r['peak_rss_mb']} MB")
    elif r["bench"] == "inbox":
        print(f"inbox      {r['open_negatives']:>9} open     {r['requests_per_s']:>9} requests/s  median {r['median_ms']} ms  p99 {r['p99_ms']} ms  peak RSS {r['peak_rss_mb']} MB")
    elif r["bench"] == "matching":
        print(f"matching   {r['brands']:>9} brands    {round(r['texts_per_second']):>9} texts/s  ({r.get('kind', 'keywords')})")
    elif r["bench"] == "shared_ingest":
        print(f"shared     {r['processes']} run processes, {r['sources']} sources: {r['stored_per_s']:>9} stored/s ({r['stored']} in {r['seconds']} s)")
    elif r["bench"] == "shared_replay":
        print(f"replay     {r['lines']} lines into SQLite {r['sqlite_lines_per_s']} lines/s, into PostgreSQL {r['postgres_lines_per_s']} lines/s "
              f"({r['postgres_over_sqlite']}x), {r['stored']} stored in each")
    elif r["bench"] == "shared_takeover":
        print(f"takeover   {r['killed_sources']} sources of a killed process polled again after median {r['median_s']} s, max {r['max_s']} s "
              f"(poll every {r['poll_every_s']} s, lease {r['lease_s']} s)")
    else:
        print(f"digest     one day over {r['stored_mentions']} stored mentions: {r['seconds']} s (whole command)")
print("written to bench/results/latest.json")
PY
