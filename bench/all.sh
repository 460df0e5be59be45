#!/usr/bin/env bash
# bench/all.sh: every benchmark behind BENCHMARKS.md's table, then the table.
#
#   bench/all.sh                           # every step (about an hour on 2 cores)
#   STEPS="serve ingest-100k" bench/all.sh # some steps; the others keep their last results
#
# Steps (each writes bench/results/all/<step>/, replacing its last run):
#   serve        N=100000 FEED=/feeds/world.rss bench/serve.sh   (wrk c32/c256, oha open loop)
#   ingest-1m    N=1000000 BUILD=0 bench/ingest.sh               (cold start, history, restart, RSS)
#   ingest-100k  N=100000 bench/ingest.sh                        (the same, build against Hugo)
#   latency-1m   N=1000000 BURST=5000 RATES="100 1000 5000 0" bench/latency.sh
# Then `benchlib.py table` turns the summaries into the table between the
# markers in BENCHMARKS.md (the targets come from the open performance issue).
#
# Run on an otherwise idle machine. The million-article corpus takes about
# 7 GB (generated once, cached in $BENCH_CACHE), its archive pages about 10 GB
# more while a step runs. Environment: STEPS, plus those of the scripts.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

STEPS=${STEPS:-serve ingest-1m ingest-100k latency-1m}
ALL=$BENCH_DIR/results/all
mkdir -p "$ALL"
build_wirefeed
export BENCH_BIN=$BIN   # every step uses the binary built once here

for step in $STEPS; do
  log "== step $step"
  rm -rf "$ALL/$step"
  case $step in
    serve) OUT=$ALL/$step N=100000 FEED=/feeds/world.rss "$BENCH_DIR/serve.sh" ;;
    ingest-1m) OUT=$ALL/$step N=1000000 BUILD=0 "$BENCH_DIR/ingest.sh" ;;
    ingest-100k) OUT=$ALL/$step N=100000 "$BENCH_DIR/ingest.sh" ;;
    latency-1m) OUT=$ALL/$step N=1000000 BURST=5000 RATES="100 1000 5000 0" "$BENCH_DIR/latency.sh" ;;
    *) die "unknown step $step" ;;
  esac
done

$LIB table "$ALL" "$ROOT/BENCHMARKS.md"
log "table written to BENCHMARKS.md"
