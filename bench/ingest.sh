#!/usr/bin/env bash
# bench/ingest.sh: how long wirefeed takes to take in a whole archive, against
# the floor (reading every file with cat) and against Hugo.
#
#   bench/ingest.sh                  # 100 000 articles (+ the same as a Hugo site)
#   N=3000 bench/ingest.sh           # smoke run
#
# Steps: build (SKIP_BUILD=1 / BENCH_BIN to skip); N articles and the same
# articles as a Hugo site (bench/corpus.py --hugo, cached in $BENCH_CACHE);
# then, each after `sync; echo 3 > /proc/sys/vm/drop_caches` when that is
# allowed (the output says "cold"; otherwise "warm": the page cache is warm
# for every measurement alike):
#   1. cat floor: `find DIR -type f -print0 | xargs -0 cat > /dev/null`, and
#      the same with `xargs -P $(nproc)` (wirefeed reads on every core);
#   2. `wirefeed serve` cold start: time from just before the process is
#      started until /readyz answers 200 (polled every 10 ms), with an empty
#      state dir; VmHWM (peak RSS so far) at that moment and the peak RSS of
#      the whole run (/usr/bin/time -v; the process is stopped right after);
#   3. the same restart with the state dir the first start left (what a
#      restart of a running installation costs);
#   4. `wirefeed build --out DIR`: wall time and peak RSS (/usr/bin/time -v);
#   5. `hugo --quiet` on the Hugo site (RSS for home, 8 sections, the
#      categories taxonomy and its 8 terms, 50 items each, plus one HTML page
#      per article as `wirefeed build` writes): wall time and peak RSS.
# Prints seconds, peak RSS and the ratios wirefeed cold start / cat floor and
# hugo / wirefeed build.
#
# CACHE=warm skips dropping the page cache (after a first read, every step
# then reads from memory: the programs' own work, without the disk).
#
# Environment: N (100000), BUILD (1; 0 skips steps 4 and 5 and the Hugo copy
# of the corpus: at a million articles they would need tens of GB), CACHE (cold), PORT (18084), OUT (bench/results/ingest-<time>),
# and those of bench/lib.sh (BENCH_CACHE, SEED, BENCH_BIN, SKIP_BUILD).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=${N:-100000}
BUILD=${BUILD:-1}
PORT=${PORT:-18084}
OUT=${OUT:-$BENCH_DIR/results/ingest-$(date +%Y%m%d-%H%M%S)}

need hugo /usr/bin/time curl "$PY"
build_wirefeed
if [[ $BUILD == 1 ]]; then ensure_corpus "$N" hugo; else ensure_corpus "$N"; fi
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/wirefeed-ingest.XXXXXX)
cleanup() {
  rm -rf "$WORK" "$CORPUS/hugo/public" "$CORPUS/hugo/resources" "$CORPUS/hugo/.hugo_build.lock"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

URL=http://127.0.0.1:$PORT
ART=$CORPUS/articles
files=$(find "$ART" -type f | wc -l)
mb=$(du -sm "$ART" | cut -f1)
export WIREFEED_SERVER_LISTEN=127.0.0.1:$PORT WIREFEED_SITE_BASE_URL=$URL WIREFEED_ARTICLES_DIR=$ART

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }

drop_caches; c1=$CACHE_STATE
log "cat floor ($CACHE_STATE cache)"
t=$(now); find "$ART" -type f -print0 | xargs -0 cat > /dev/null; cat_s=$(since "$t")
drop_caches
t=$(now); find "$ART" -type f -print0 | xargs -0 -P "$(nproc)" -n 500 cat > /dev/null; catp_s=$(since "$t")

run_coldstart() { # label state-dir [coldstart options]
  local label=$1 state=$2
  shift 2
  drop_caches
  log "wirefeed serve until /readyz ($label, $CACHE_STATE cache)"
  WIREFEED_STATE_DIR=$state WIREFEED_LOG=info $LIB coldstart --url "$URL/readyz" \
    --time-out "$OUT/serve-$label.time" --log "$OUT/serve-$label.log" "$@" \
    -- "$BIN" --config "$CORPUS/wirefeed.toml" serve
}
# The first start runs on until its whole history is stored, so that the
# restart finds it (the restart's own time is to /readyz).
read -r ready_s ready_hwm ready_rss history_s history_hwm \
  <<< "$(run_coldstart fresh "$WORK/state" --until-log "archives stored")"
read -r _ serve_peak <<< "$($LIB timev "$OUT/serve-fresh.time")"
read -r restart_s restart_hwm _ <<< "$(run_coldstart restart "$WORK/state")"
read -r _ restart_peak <<< "$($LIB timev "$OUT/serve-restart.time")"
scan_ms=$({ grep -oE '(ready|full scan published) .*' "$OUT/serve-fresh.log" || true; } | grep -o 'ms=[0-9]*' | head -1 || true)

build_s=- build_rss=- hugo_s=- hugo_rss=-
if [[ $BUILD == 1 ]]; then
  drop_caches
  log "wirefeed build ($CACHE_STATE cache)"
  /usr/bin/time -v -o "$OUT/build.time" "$BIN" --config "$CORPUS/wirefeed.toml" build --out "$WORK/site" \
    > "$OUT/build.log" 2>&1 || die "wirefeed build failed: $(tail -3 "$OUT/build.log")"
  read -r build_s build_rss <<< "$($LIB timev "$OUT/build.time")"

  rm -rf "$CORPUS/hugo/public" "$CORPUS/hugo/resources"
  drop_caches
  log "hugo --quiet ($CACHE_STATE cache)"
  /usr/bin/time -v -o "$OUT/hugo.time" hugo --quiet -s "$CORPUS/hugo" > "$OUT/hugo.log" 2>&1 \
    || die "hugo failed: $(tail -3 "$OUT/hugo.log")"
  read -r hugo_s hugo_rss <<< "$($LIB timev "$OUT/hugo.time")"
  [[ -f $CORPUS/hugo/public/index.xml && -f $CORPUS/hugo/public/categories/world/index.xml ]] \
    || die "hugo wrote no RSS"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
{
  echo "== bench/ingest.sh: $files articles ($mb MB), page cache: $c1 for every step"
  machine_summary
  [[ $BUILD == 1 ]] && hugo version | cut -d' ' -f1-2
  row() { printf '%-44s %9s %12s  %s\n' "$@"; }
  row step seconds "peak RSS MB" ""
  row "cat floor (1 process)" "$cat_s" - ""
  row "cat floor (xargs -P $(nproc))" "$catp_s" - ""
  row "wirefeed serve -> /readyz (empty state)" "$ready_s" "$ready_hwm" "(VmHWM at ready)"
  row "  ... -> archives stored (same run)" "$history_s" "$serve_peak" "(peak of the run; VmHWM then: $history_hwm)"
  row "wirefeed serve -> /readyz (restart, state)" "$restart_s" "$restart_peak" "(VmHWM at ready: $restart_hwm)"
  row "wirefeed build --out" "$build_s" "$build_rss" ""
  row "hugo --quiet" "$hugo_s" "$hugo_rss" ""
  echo "wirefeed's own log for the first start: full scan $scan_ms; RSS at ready $ready_rss MB"
  echo "ratios: wirefeed cold start / cat floor = $(ratio "$ready_s" "$cat_s") (/ parallel cat $(ratio "$ready_s" "$catp_s"));" \
    "hugo / wirefeed build = $(ratio "$hugo_s" "$build_s"); hugo / wirefeed cold start = $(ratio "$hugo_s" "$ready_s")"
  echo "raw data: $OUT"
} | tee "$OUT/summary.txt"
