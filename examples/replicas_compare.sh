#!/usr/bin/env bash
# souk replicas on PostgreSQL behind HAProxy, on the workload of ../shared/perf/compare.sh
# (signed WhatsApp webhooks from its `loadgen`, "cart" answered with one reply each at its
# `fakegraph`), and the embedded store alone for comparison, in one run:
#   sled  one souk on sled, no proxy (compare.sh's souk line)
#   R     R souk replicas on one fresh PostgreSQL schema, HAProxy in front (TCP, round robin
#         per connection: the load generator's keep-alive connections spread evenly)
# Usage, from the project root, with a database souk may create schemas in:
#   SOUK__STORE__POSTGRES__URL=postgres://… bash examples/replicas_compare.sh [N] [C] [RUNS…]
#   (defaults: 10000 64 sled 1 2). Needs haproxy (apt-get install haproxy).
set -euo pipefail
N=${1:-10000}; C=${2:-64}; shift $(( $# >= 2 ? 2 : $# ))
RUNS=("$@"); [ ${#RUNS[@]} -gt 0 ] || RUNS=(sled 1 2)
: "${SOUK__STORE__POSTGRES__URL:?set SOUK__STORE__POSTGRES__URL to a database souk may use}"
proj="$(pwd)"; harness="$proj/../shared/perf/harness"
[ -f "$proj/Cargo.toml" ] && [ -d "$harness" ] || { echo "run from the project root" >&2; exit 2; }
command -v haproxy >/dev/null || { echo "haproxy is missing (apt-get install haproxy)" >&2; exit 2; }
cargo build --release -q --manifest-path "$harness/Cargo.toml" --target-dir "$proj/target/perf-harness"
cargo build --release -q --bin souk
BIN="$proj/target/perf-harness/release"; SOUK="$proj/target/release/souk"
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
tmp="$(mktemp -d)"; pids=()
stop_all() {
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_all; kill "${fgpid:-}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
wait_url() { for _ in $(seq 200); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

SECRET=bench-app-secret
FG=$(port); "$BIN/fakegraph" --listen 127.0.0.1:$FG --threads 1 >"$tmp/fg.log" 2>&1 & fgpid=$!
wait_url "http://127.0.0.1:$FG/stats"
LG=("$BIN/loadgen" --format a -c "$C" -k 1000 --app-secret "$SECRET" --fakegraph "http://127.0.0.1:$FG" --text cart)

souk() { # port, then extra environment
  local listen=$1; shift
  env RUST_LOG=warn SOUK__SERVER__LISTEN=127.0.0.1:$listen "$@" \
    SOUK__CHANNELS__WHATSAPP__ENABLED=true SOUK__CHANNELS__WHATSAPP__APP_SECRET=$SECRET \
    SOUK__CHANNELS__WHATSAPP__VERIFY_TOKEN=bench-verify-token SOUK__CHANNELS__WHATSAPP__ACCESS_TOKEN=bench-access-token \
    SOUK__CHANNELS__WHATSAPP__PHONE_NUMBER_ID=106540352242922 SOUK__CHANNELS__WHATSAPP__API_BASE=http://127.0.0.1:$FG \
    SOUK__CHANNELS__WHATSAPP__MESSAGES_PER_SECOND=1000000 SOUK__CHANNELS__WHATSAPP__RECIPIENT_GAP_MS=0 \
    "$SOUK" serve --config "$proj/config/souk.toml" >>"$tmp/souk.log" 2>&1 &
  pids+=($!)
}

measure() { # label, target
  "${LG[@]}" --target "$2" -n 1000 --label warmup >/dev/null 2>&1
  "${LG[@]}" --target "$2" -n "$N" --label "$1" 2>/dev/null | tail -1
}

for run in "${RUNS[@]}"; do
  if [ "$run" = sled ]; then
    SP=$(port); souk "$SP" SOUK__STORE__PATH="$tmp/sled-$SP"
    wait_url "http://127.0.0.1:$SP/readyz"
    line=$(measure sled "http://127.0.0.1:$SP/webhooks/whatsapp")
  else
    schema="bench_r${run}_$$_$RANDOM"; backends=""
    for i in $(seq "$run"); do
      SP=$(port); souk "$SP" SOUK__STORE__BACKEND=postgres SOUK__STORE__POSTGRES__SCHEMA="$schema"
      wait_url "http://127.0.0.1:$SP/readyz"
      backends+="    server r$i 127.0.0.1:$SP"$'\n'
    done
    # Replicas joining take their share of the shards over a few lease rounds: wait until
    # every replica holds its share (64 / R, rounded either way) and nothing moves for 4 s.
    split() { psql "$SOUK__STORE__POSTGRES__URL" -tAc \
      "SELECT count(*) = $run AND min(n) >= 64 / $run AND max(n) <= (64 + $run - 1) / $run
       FROM (SELECT count(*) n FROM $schema.leases WHERE owner IS NOT NULL AND expires_at > now() GROUP BY owner) s" 2>/dev/null || echo f; }
    epochs() { psql "$SOUK__STORE__POSTGRES__URL" -tAc "SELECT coalesce(sum(epoch), 0) FROM $schema.leases"; }
    for _ in $(seq 60); do
      if [ "$(split)" = t ]; then e=$(epochs); sleep 4; [ "$(epochs)" = "$e" ] && [ "$(split)" = t ] && break; fi
      sleep 0.5
    done
    HP=$(port)
    cat >"$tmp/haproxy.cfg" <<CFG
global
    maxconn 4096
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend souk
    bind 127.0.0.1:$HP
    default_backend replicas
backend replicas
    balance roundrobin
$backends
CFG
    haproxy -f "$tmp/haproxy.cfg" -db >"$tmp/haproxy.log" 2>&1 & pids+=($!)
    wait_url "http://127.0.0.1:$HP/readyz"
    before=$(epochs)
    line=$(measure "postgres-$run" "http://127.0.0.1:$HP/webhooks/whatsapp")
    echo "postgres-$run: shard moves during the run (warm-up included): $(( $(epochs) - before ))" >&2
  fi
  stop_all
  echo "$line"
  python3 - "$line" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
print(f"{o['label']}: {o.get('e2e_rps') or 0:.0f} msgs/s answered end to end; ack p50 {o['lat_ms']['p50']:.1f} ms, "
      f"p99 {o['lat_ms']['p99']:.1f} ms; replies {o.get('replies')} for {o.get('n')}; "
      f"senders short of a reply {o.get('replies_missing_per_recipient')}")
PY
done
kill "$fgpid" 2>/dev/null || true
