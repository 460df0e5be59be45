# Shared by bench/*.sh (sourced). Not a script of its own.
#
# Environment (all optional):
#   BENCH_CACHE   where generated corpora are kept between runs (default /tmp/wirefeed-bench)
#   SEED          corpus seed (default 1)
#   BENCH_BIN     wirefeed binary to use instead of building target/release/wirefeed
#   SKIP_BUILD=1  do not run `cargo build --release` (use the existing binary)
# Names avoid the WIREFEED_ prefix: wirefeed reads every WIREFEED_* variable as a config key.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
BENCH_CACHE=${BENCH_CACHE:-/tmp/wirefeed-bench}
SEED=${SEED:-1}
PY=${PYTHON:-python3}
LIB="$PY $BENCH_DIR/benchlib.py"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

need() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  if ((${#missing[@]})); then
    die "missing: ${missing[*]} (Debian: apt-get update && apt-get install -y nginx wrk hugo time curl python3)"
  fi
}

# Sets BIN to the release binary (building it unless SKIP_BUILD=1 or BENCH_BIN is set).
build_wirefeed() {
  if [[ -n ${BENCH_BIN:-} ]]; then
    BIN=$BENCH_BIN
  else
    if [[ ${SKIP_BUILD:-0} != 1 ]]; then
      log "cargo build --release"
      (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
    fi
    local target
    target=${CARGO_TARGET_DIR:-$ROOT/target}
    BIN=$target/release/wirefeed
  fi
  [[ -x $BIN ]] || die "no wirefeed binary at $BIN"
}

# ensure_corpus N [hugo]: sets CORPUS (dir with articles/, wirefeed.toml and,
# with "hugo", hugo/). Generated once per (N, SEED, corpus.py version) and
# kept in $BENCH_CACHE; leftovers of an interrupted latency run are removed.
ensure_corpus() {
  local n=$1 want_hugo=${2:-}
  local sum
  sum=$(sha256sum "$BENCH_DIR/corpus.py" | cut -c1-12)
  CORPUS=$BENCH_CACHE/corpus-n$n-s$SEED
  local marker=$CORPUS/.complete-$sum
  if [[ -f $marker && ( -z $want_hugo || -d $CORPUS/hugo/content ) ]]; then
    find "$CORPUS/articles" -name 'burst-*' -delete
    log "reusing corpus $CORPUS"
    return
  fi
  rm -rf "$CORPUS"
  mkdir -p "$CORPUS"
  log "generating $n articles (seed $SEED${want_hugo:+, with Hugo site}) into $CORPUS"
  local hugo_args=()
  [[ -n $want_hugo ]] && hugo_args=(--hugo "$CORPUS/hugo")
  "$PY" "$BENCH_DIR/corpus.py" --n "$n" --seed "$SEED" --out "$CORPUS/articles" \
    --config "$CORPUS/wirefeed.toml" "${hugo_args[@]}" || die "corpus.py failed"
  touch "$marker"
}

# Drops the page cache when allowed. Sets CACHE_STATE to "cold" or "warm".
# CACHE=warm keeps the page cache (every step then reads from memory: the
# comparison of the programs' own work, without the disk).
drop_caches() {
  sync
  if [ "${CACHE:-cold}" = warm ]; then
    CACHE_STATE=warm
  elif { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then
    CACHE_STATE=cold
  else
    CACHE_STATE=warm
  fi
}

machine_summary() {
  echo "machine: $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2 " RAM, " $7 " available"}'), $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}')"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)  (other jobs on the machine skew every figure)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet -- . ':!BENCHMARKS.md' 2>/dev/null || echo '+dirty')"
}
