#!/usr/bin/env bash
# What one message costs the store, on compare.sh's workload (signed WhatsApp "cart"
# webhooks from loadgen, replies at fakegraph; 64 connections, 1,000 senders): group-commit
# rounds (one fsync each) per message, the store's bytes on disk per message (read from
# /metrics and du after the run), souk's CPU time per message (from /proc; steadier
# than the rate on a noisy machine), its page faults and the bytes it wrote to the disk per
# message (/proc/PID/io: sled's write amplification shows there, not in du). `perf` as the first argument also records a profile of souk
# (perf record -g, dwarf call graphs) to /tmp/perf.data; PERF_EVENTS="-e sched:sched_switch" records
# where threads block instead of where they run.
# Run from the project root after `bash ../shared/perf/compare.sh` has built the harness:
#   bash examples/store_cost.sh [perf]        (N=20000 by default; SOUK=path runs another build;
#                                              METRICS_OUT=file keeps souk's /metrics after the run)
set -euo pipefail
BIN=target/perf-harness/release; SOUK=${SOUK:-target/release/souk}
[ -x "$BIN/loadgen" ] || { echo "run bash ../shared/perf/compare.sh first (it builds the harness)" >&2; exit 2; }
[ "$SOUK" = target/release/souk ] && cargo build --release -q --bin souk
N=${N:-20000}
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] && cp -r "$tmp/store" "$KEEP"; rm -rf "$tmp"; }
trap cleanup EXIT
wait_url() { for _ in $(seq 100); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
FG=$(port); "$BIN/fakegraph" --listen 127.0.0.1:$FG --threads 1 >/dev/null 2>&1 & pids+=($!)
wait_url "http://127.0.0.1:$FG/stats"
SECRET=bench-app-secret
LG=("$BIN/loadgen" --format a -c 64 -k 1000 --app-secret "$SECRET" --fakegraph "http://127.0.0.1:$FG" --text cart)
SP=$(port)
env RUST_LOG=warn SOUK__SERVER__LISTEN=127.0.0.1:$SP SOUK__STORE__PATH="$tmp/store" \
  SOUK__CHANNELS__WHATSAPP__ENABLED=true SOUK__CHANNELS__WHATSAPP__APP_SECRET=$SECRET \
  SOUK__CHANNELS__WHATSAPP__VERIFY_TOKEN=bench-verify-token SOUK__CHANNELS__WHATSAPP__ACCESS_TOKEN=bench-access-token \
  SOUK__CHANNELS__WHATSAPP__PHONE_NUMBER_ID=106540352242922 SOUK__CHANNELS__WHATSAPP__API_BASE=http://127.0.0.1:$FG \
  SOUK__CHANNELS__WHATSAPP__MESSAGES_PER_SECOND=1000000 SOUK__CHANNELS__WHATSAPP__RECIPIENT_GAP_MS=0 \
  "$SOUK" serve --config config/souk.toml >"$tmp/souk.log" 2>&1 & spid=$!; pids+=($spid)
wait_url "http://127.0.0.1:$SP/readyz"
"${LG[@]}" --target "http://127.0.0.1:$SP/webhooks/whatsapp" -n 1000 --label warmup >/dev/null 2>&1
recorder=""
if [ "${1:-}" = perf ]; then
  perf record ${PERF_EVENTS:--F 1999} -g --call-graph dwarf,16384 -p "$spid" -o /tmp/perf.data -- sleep 3 >/dev/null 2>&1 &
  recorder=$!
  sleep 0.3
fi
cpu() { awk '{print $14 + $15}' "/proc/$spid/stat"; }
faults() { awk '{print $10}' "/proc/$spid/stat"; }
written() { awk '/^write_bytes/ {print $2}' "/proc/$spid/io"; }
# every thread's context switches (voluntary: it blocked; involuntary: it was preempted)
switches() { cat /proc/$spid/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ {s += $2} END {print s}'; }
cpu_before=$(cpu); faults_before=$(faults); written_before=$(written); switches_before=$(switches)
result=$("${LG[@]}" --target "http://127.0.0.1:$SP/webhooks/whatsapp" -n "$N" --label souk 2>/dev/null | tail -1)
if [ -n "$recorder" ]; then wait "$recorder" 2>/dev/null || true; fi
cpu_after=$(cpu); faults_after=$(faults); written_after=$(written); switches_after=$(switches)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$spid/status")
metrics=$(curl -s "http://127.0.0.1:$SP/metrics")
[ -n "${METRICS_OUT:-}" ] && echo "$metrics" > "$METRICS_OUT"
bytes=$(du -sb "$tmp/store" 2>/dev/null | cut -f1 || echo 0); bytes=${bytes:-0}
ticks=$(getconf CLK_TCK)
python3 - "$result" "$bytes" "$metrics" "$((cpu_after - cpu_before))" "$ticks" "$N" "$((faults_after - faults_before))" "$rss" "$((written_after - written_before))" "$((switches_after - switches_before))" <<'PY'
import json, sys
run, size, metrics = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cpu_ms = int(sys.argv[4]) * 1000 / int(sys.argv[5])
def metric(name):
    return next((float(l.split()[-1]) for l in metrics.splitlines() if l.startswith(name + " ")), 0.0)
events = metric("souk_events_processed_total")
rounds = metric("souk_flush_seconds_count")
print(f"{run['e2e_rps']:.0f} msgs/s end to end, ack p99 {run['lat_ms']['p99']:.1f} ms, "
      f"souk CPU {cpu_ms / int(sys.argv[6]):.3f} ms per message")
print(f"page faults {int(sys.argv[7]) / int(sys.argv[6]):.2f} per message, resident {int(sys.argv[8]) // 1024} MB at the end, "
      f"{int(sys.argv[9]) / int(sys.argv[6]) / 1024:.1f} KB written to disk per message, "
      f"{int(sys.argv[10]) / int(sys.argv[6]):.1f} context switches per message")
print(f"{events:.0f} events, {rounds:.0f} group-commit rounds (fsyncs): {rounds / max(events, 1):.3f} per event")
round_ms = 1000 * metric("souk_flush_seconds_sum") / max(rounds, 1)
sync_ms = 1000 * metric("souk_store_sync_seconds_sum") / max(metric("souk_store_sync_seconds_count"), 1)
print(f"a round takes {round_ms:.1f} ms on average, of which the fsync {sync_ms:.1f} ms")
appends = metric("souk_inbox_log_write_seconds_count")
if appends:
    append_ms = 1000 * metric("souk_inbox_log_write_seconds_sum") / appends
    print(f"inbox log: {appends:.0f} appends (fsyncs), {appends / max(events, 1):.3f} per event, "
          f"{append_ms:.2f} ms each")
print(f"store on disk {size} bytes: {size / max(events, 1) / 1024:.1f} KB per event")
PY
