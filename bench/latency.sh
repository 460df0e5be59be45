#!/usr/bin/env bash
# bench/latency.sh: write -> visible latency of `wirefeed serve` under a burst
# of new files, and what the burst does to feed requests.
#
#   bench/latency.sh                       # 100 000-article corpus, 10 000-file burst
#   N=3000 BURST=1000 bench/latency.sh     # smoke run
#
# Steps: build (SKIP_BUILD=1 / BENCH_BIN to skip), corpus of N articles
# (cached, see bench/lib.sh), `wirefeed serve` on 127.0.0.1:PORT with an empty
# state dir, wait for /readyz; then
#   - a paced load client (bench/burst.py load: LOAD_RPS requests/s over
#     LOAD_CONNS keep-alive connections, Accept-Encoding: gzip) on
#     /feeds/world.rss, BASE_SECONDS before the burst and until every burst
#     file is published; latency counted from each request's scheduled time;
#   - a poller (bench/burst.py poll) doing conditional GETs of all.json and the
#     8 category JSON feeds every POLL_INTERVAL s (default 0.005);
#   - the burst (bench/burst.py write): BURST seed-layout .txt files written
#     back to back into the category folders, each with a unique title token
#     and a byline date one minute after the previous file's, all newer than
#     the corpus and in the past, so each new file is the newest article when
#     it is written; the write-completion time (after close) of each is kept.
#
# Method (why two measurements): a feed shows only its newest 50 items, and
# the daemon publishes batches, so when it takes in 300 files at once only the
# newest 50 of them (per feed) ever appear in a feed: polling alone cannot
# see every file.
#   A (primary, every file): the daemon logs each publish after swapping it in
#     (`published ... articles=N`, with a microsecond UTC timestamp). The burst
#     only adds new paths, so after a publish N - base of them are served;
#     files are settled on close and taken in event order, so the k-th written
#     file is visible at the first publish with N >= base + k.
#     write->visible = that log time - the file's write-completion time.
#   B (exact, for the files that reached a feed): first time the poller saw
#     the file's token in any JSON feed - write-completion time (includes up
#     to one poll cycle). The report also counts files seen before the
#     publish A assigns them, which would show A's ordering assumption failing.
#   C (the daemon's own view): the delta of the /metrics histogram
#     wirefeed_watch_lag_seconds over the burst (one sample per publish).
#   CPU (what limits A when the writer is fast): CPU time from /proc between
#     the first write and the publish of the last file: how busy the machine
#     was, the daemon's time per burst file by thread (less what serving the
#     poller and the load client alone costs, from the BASE_SECONDS before
#     the burst), and what the writer, the poller and the load client used.
#     A daemon that needs more CPU per file than the writer leaves it falls
#     behind, and then no round size keeps the p99 low.
#
# The writer's speed varies from run to run with the filesystem's state
# (3 000 to 41 000 files/s on one VM with the same command). Right after a
# mass deletion ext4 creates slow down for the first few thousand files
# (6 918 files/s, then 62 457 for the next 3 000, no daemon running), but
# neither a pause before the burst nor keeping the last burst's files
# (moved aside instead of deleted) made the writer steadily fast. A slow
# create also costs the writer CPU the daemon then lacks. The report prints
# the writer's files/s: compare results at similar writer speeds. To compare
# two builds, pace the writer on a corpus copied to tmpfs and alternate them:
#   cp -a /tmp/wirefeed-bench/corpus-n100000-s1 /dev/shm/wfb/
#   RATE=10000 BENCH_CACHE=/dev/shm/wfb BENCH_BIN=path/to/wirefeed bench/latency.sh
#
# RATE (files/s, default 0 = back to back as fast as the writer goes) paces
# the burst, to see the latency when the files come no faster than the
# daemon takes them in (the default, unpaced burst stays the benchmark).
#
# HARNESS (rust): the writer, poller and load client are benches/live.rs, one
# compiled program (built with `cargo build --release --bench live` before the
# daemon starts, then run directly), so the harness leaves the daemon the CPU;
# its summary covers A, B, the load and the CPU of the harness and the daemon.
# HARNESS=python runs the bench/burst.py steps described above instead
# (three Python processes; the only one with C, the /metrics histogram).
#
# With the rust harness the bursts start once the archive pages a first start
# stores after ready are stored (steady state), and RATES="100 1000 5000" runs
# one burst per rate on the same daemon, one after the other.
#
# Environment: HARNESS (rust), N (100000), BURST (10000), RATE (0), RATES (RATE), PORT (18083), POLL_INTERVAL (0.005),
# LOAD_RPS (200), LOAD_CONNS (4), BASE_SECONDS (5), TIMEOUT (600 s for the
# burst to be published), OUT (bench/results/latency-<time>), and those of
# bench/lib.sh (BENCH_CACHE, SEED, BENCH_BIN, SKIP_BUILD).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=${N:-100000}
BURST=${BURST:-10000}
RATE=${RATE:-0}
PORT=${PORT:-18083}
POLL_INTERVAL=${POLL_INTERVAL:-0.005}
LOAD_RPS=${LOAD_RPS:-200}
LOAD_CONNS=${LOAD_CONNS:-4}
BASE_SECONDS=${BASE_SECONDS:-5}
TIMEOUT=${TIMEOUT:-600}
OUT=${OUT:-$BENCH_DIR/results/latency-$(date +%Y%m%d-%H%M%S)}
RUN=$(( $(date +%s) % 100000 ))

HARNESS=${HARNESS:-rust}
[[ $HARNESS == rust || $HARNESS == python ]] || die "HARNESS=$HARNESS: rust or python"

need curl "$PY"
build_wirefeed
ensure_corpus "$N"
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/wirefeed-latency.XXXXXX)
if [[ $HARNESS == rust ]]; then
  # Building a bench target also builds target/release/wirefeed from the
  # current sources: keep the binary chosen above (SKIP_BUILD=1) aside first.
  if [[ -z ${BENCH_BIN:-} ]]; then
    cp "$BIN" "$WORK/wirefeed"
    BIN=$WORK/wirefeed
  fi
  log "cargo build --release --bench live"
  LIVE=$(cd "$ROOT" && cargo build --quiet --release --bench live --message-format=json \
    | "$PY" -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "live" and m.get("executable"):
        print(m["executable"])' | tail -1)
  [[ -x $LIVE ]] || die "could not build benches/live.rs"
fi

# ext4 without a journal does not reuse an inode for 60 s after its delete
# (300 s while its inode-table block is dirty): a burst written within
# minutes of the last one's delete is created far slower than a first
# run's (BENCHMARKS.md, `bench/latency.sh`). Said in the summary, not waited out.
SINCE_DELETE=""
if [[ -f $CORPUS/.burst-deleted ]]; then
  SINCE_DELETE=$(( $(date +%s) - $(cat "$CORPUS/.burst-deleted") ))
  (( SINCE_DELETE < 300 )) || SINCE_DELETE=""
fi

PIDS=()
cleanup() {
  local pid
  touch "$WORK/stop" 2>/dev/null || true
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  find "$CORPUS/articles" -name "burst-*" -delete 2>/dev/null || true
  date +%s > "$CORPUS/.burst-deleted" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

URL=http://127.0.0.1:$PORT
log "wirefeed serve on $URL ($N articles)"
WIREFEED_SERVER_LISTEN=127.0.0.1:$PORT WIREFEED_SITE_BASE_URL=$URL \
  WIREFEED_ARTICLES_DIR=$CORPUS/articles WIREFEED_STATE_DIR=$WORK/state WIREFEED_LOG=info \
  "$BIN" --config "$CORPUS/wirefeed.toml" serve 2> "$OUT/wirefeed.log" &
WF_PID=$!
PIDS+=($WF_PID)
t0=$(date +%s.%N)
$LIB wait-ready "$URL/readyz" 1800 || die "wirefeed never became ready: $(tail -3 "$OUT/wirefeed.log")"
log "ready after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}') s"
base=$(curl -s "$URL/metrics" | awk '$1 == "wirefeed_articles{feed=\"all\"}" {print $2}')
[[ -n $base ]] || die "no wirefeed_articles{feed=\"all\"} in /metrics"
(( base == N )) || log "warning: $base articles in the catalog, $N generated"
sleep 1
curl -s "$URL/metrics" > "$OUT/metrics-before.txt"

if [[ $HARNESS == rust ]]; then
  # Steady state: a first start stores its archive pages after ready.
  waiting() { curl -s "$URL/metrics" | awk '$1 == "wirefeed_archive_pages_waiting" {print $2}'; }
  t1=$(date +%s.%N)
  until [[ $(waiting) == 0 ]]; do sleep 1; done
  log "archive pages stored $(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}') s after ready"
  : > "$OUT/live.json"
  {
    echo "== bench/latency.sh: $N articles, bursts of $BURST files at ${RATES:-$RATE} files/s (0: unpaced; benches/live.rs)"
    machine_summary
    if [[ -n $SINCE_DELETE ]]; then
      echo "note: the last burst here was deleted ${SINCE_DELETE} s before this one started; on ext4 without a journal its inodes are not reused for 60-300 s, so this writer may be much slower than a first run's"
    fi
  } > "$OUT/summary.txt"
  i=0
  for rate in ${RATES:-$RATE}; do
    i=$((i + 1))
    base=$(curl -s "$URL/metrics" | awk '$1 == "wirefeed_articles{feed=\"all\"}" {print $2}')
    log "burst $i: $BURST files at $rate files/s onto $base articles"
    mkdir -p "$OUT/rate-$rate"
    "$LIVE" --url "$URL" --articles "$CORPUS/articles" --files "$BURST" --rate "$rate" \
      --load-rps "$LOAD_RPS" --load-conns "$LOAD_CONNS" --feed /feeds/world.rss \
      --poll-interval-ms "$(awk -v s="$POLL_INTERVAL" 'BEGIN {print s * 1000}')" \
      --log "$OUT/wirefeed.log" --daemon-pid "$WF_PID" --base-count "$base" \
      --base-seconds "$BASE_SECONDS" --timeout "$TIMEOUT" --run "$((RUN + i))" --raw "$OUT/rate-$rate" \
      > "$OUT/live-$rate.txt" || log "benches/live.rs failed (see $OUT/live-$rate.txt)"
    grep '^{' "$OUT/live-$rate.txt" >> "$OUT/live.json" || true
    { echo "-- rate $rate files/s"; grep -v '^{' "$OUT/live-$rate.txt"; } >> "$OUT/summary.txt"
    sleep 2
  done
  curl -s "$URL/metrics" > "$OUT/metrics-after.txt"
  {
    echo "wirefeed RSS after the bursts: $(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/$WF_PID/status")"
    echo "raw data: $OUT (live.json: one summary per burst, one JSON line each)"
  } >> "$OUT/summary.txt"
  cat "$OUT/summary.txt"
  exit 0
fi

"$PY" "$BENCH_DIR/burst.py" load --url "$URL/feeds/world.rss" --rps "$LOAD_RPS" --conns "$LOAD_CONNS" \
  --out "$OUT/load.csv" --stop "$WORK/stop" --timeout "$((TIMEOUT + 120))" &
PIDS+=($!)
LOAD_PID=$!
"$PY" "$BENCH_DIR/burst.py" poll --base "$URL" --run "$RUN" --interval "$POLL_INTERVAL" \
  --out "$OUT/seen.csv" --stop "$WORK/stop" --timeout "$((TIMEOUT + 120))" 2> "$OUT/poll.log" &
PIDS+=($!)
POLL_PID=$!
PROCS=(--proc "wirefeed=$WF_PID" --proc "poller=$POLL_PID" --proc "load client=$LOAD_PID")
"$PY" "$BENCH_DIR/burst.py" cpu --out "$OUT/cpu-base.json" "${PROCS[@]}"
sleep "$BASE_SECONDS"

log "burst: writing $BURST files"
want=$((base + BURST))
# CPU use: at the first write (by the writer) and at the publish of the last.
"$PY" "$BENCH_DIR/burst.py" cpu --out "$OUT/cpu-end.json" "${PROCS[@]}" \
  --wait-log "$OUT/wirefeed.log" --want "$want" --timeout "$TIMEOUT" &
PIDS+=($!)
CPU_END_PID=$!
"$PY" "$BENCH_DIR/burst.py" write --root "$CORPUS/articles" --n "$BURST" --run "$RUN" \
  --out "$OUT/writes.csv" --rate "$RATE" --cpu-out "$OUT/cpu-start.json" "${PROCS[@]/#--proc/--cpu-proc}"
wait "$CPU_END_PID" || true
deadline=$(( $(date +%s) + TIMEOUT ))
while :; do
  have=$(curl -s "$URL/metrics" | awk '$1 == "wirefeed_articles{feed=\"all\"}" {print $2}')
  [[ ${have:-0} -ge $want ]] && break
  (( $(date +%s) < deadline )) || { log "timeout: $have of $want articles after ${TIMEOUT}s"; break; }
  sleep 0.2
done
sleep 1   # the poller's last cycles, load after the burst is excluded by time
touch "$WORK/stop"
wait "$LOAD_PID" "$POLL_PID" 2>/dev/null || true
curl -s "$URL/metrics" > "$OUT/metrics-after.txt"
cat "$OUT/poll.log" >&2

{
  echo "== bench/latency.sh: $N articles, burst of $BURST files, poll every ${POLL_INTERVAL}s, load ${LOAD_RPS} req/s over $LOAD_CONNS connections"
  machine_summary
  if [[ -n $SINCE_DELETE ]]; then
    echo "note: the last burst here was deleted ${SINCE_DELETE} s before this one started; on ext4 without a journal its inodes are not reused for 60-300 s, so this writer may be much slower than a first run's"
  fi
  "$PY" "$BENCH_DIR/burst.py" report --writes "$OUT/writes.csv" --seen "$OUT/seen.csv" \
    --log "$OUT/wirefeed.log" --base-count "$base" --load "$OUT/load.csv" --load-url /feeds/world.rss \
    --metrics-before "$OUT/metrics-before.txt" --metrics-after "$OUT/metrics-after.txt" \
    --cpu-base "$OUT/cpu-base.json" --cpu-start "$OUT/cpu-start.json" --cpu-end "$OUT/cpu-end.json"
  echo "wirefeed RSS after the burst: $(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/$WF_PID/status")"
  echo "raw data: $OUT"
} | tee "$OUT/summary.txt"
