#!/usr/bin/env bash
# Benchmarks. usage: bench/run.sh [sentiment|replay|all]   (default: all)
# Prints a table and writes bench/results/latest.json.
#   sentiment: our VADER vs the reference vaderSentiment 3.3.2 (installed into a
#              throwaway virtual environment), one thread, same texts.
#   replay:    end-to-end replay of generated feeds of 10k, 100k and 1M mentions
#              into fresh SQLite files, with peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=()

cargo build --release --quiet --example bench_sentiment --example gen_feed --bin complaint-monitor

if [[ $what == sentiment || $what == all ]]; then
  python3 bench/gen_texts.py 20000 7 > "$work/texts.jsonl"
  ours=$(./target/release/examples/bench_sentiment "$work/texts.jsonl" "$work/ours.txt" 20)
  echo "ours:      $ours"
  if python3 -m venv "$work/venv" >/dev/null 2>&1 && "$work/venv/bin/pip" install -q vaderSentiment==3.3.2 >/dev/null 2>&1; then
    ref=$("$work/venv/bin/python" bench/vader_reference.py "$work/texts.jsonl" "$work/ref.txt")
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
    results+=("$(python3 - "$work/summary.json" "$rss_kb" "$n" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(json.dumps({"bench": "replay", "mentions": int(sys.argv[3]), "lines": s["lines"], "stored": s["stored"],
                  "lines_per_s": round(s["lines_per_second"]), "peak_rss_mb": round(int(sys.argv[2]) / 1024, 1)}))
PY
)")
    echo "${results[-1]}"
  done
fi

mkdir -p bench/results
python3 - "$(nproc)" "$(awk '/MemTotal/ {print $2}' /proc/meminfo)" "${results[@]}" > bench/results/latest.json <<'PY'
import json, platform, sys
rows = [json.loads(r) for r in sys.argv[3:]]
print(json.dumps({"machine": {"cores": int(sys.argv[1]), "memory_gib": round(int(sys.argv[2]) / 2**20, 1),
                              "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")},
                  "results": rows}, indent=2))
PY
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
    else:
        print(f"replay     {r['mentions']:>9} mentions  {r['lines_per_s']:>9} lines/s  peak RSS {r['peak_rss_mb']} MB")
print("written to bench/results/latest.json")
PY
