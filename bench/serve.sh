#!/usr/bin/env bash
# bench/serve.sh: `wirefeed serve` against nginx serving the same feed bytes.
#
#   bench/serve.sh                                   # 2000 articles, wrk -t2 -c32 and -c256, 10 s each
#   N=100000 FEED=/feeds/world.rss bench/serve.sh    # the BENCHMARKS.md row
#
# What it does:
#   1. cargo build --release (SKIP_BUILD=1 / BENCH_BIN=path to skip);
#   2. generates N articles (bench/corpus.py, cached in $BENCH_CACHE);
#   3. `wirefeed build --out SITE`, then `gzip -k -9` every feed file and
#      the archive page ARCHIVE so that nginx's gzip_static serves
#      precompressed bodies (wirefeed keeps its own gzip bodies, level 3);
#   4. starts nginx (temp nginx.conf: worker_processes auto, sendfile,
#      gzip_static, etag, access_log off, keepalive_requests 1000000 so both
#      servers keep their connections, types .rss/.atom/.json as wirefeed) on
#      127.0.0.1:NGINX_PORT with root SITE, and `wirefeed serve` on
#      127.0.0.1:WF_PORT (WIREFEED_SERVER_LISTEN / WIREFEED_ARTICLES_DIR /
#      WIREFEED_STATE_DIR overrides); waits for /readyz and for its archive
#      pages to be stored;
#   5. checks that every feed's identity body (and the gunzipped gzip body),
#      and ARCHIVE's, is byte-identical from both servers;
#   6. closed loop: drives both with the same wrk settings, for each of CONNS:
#      (a) FEED, 200 with Accept-Encoding: gzip, (b) FEED, 200 identity,
#      (c) FEED, 304: Accept-Encoding: gzip + If-None-Match with the ETag that
#      server sent for its gzip body, (d) ARCHIVE, 200 gzip;
#   7. open loop, the fair comparison of tail latency: nginx's gzip req/s at
#      the largest of CONNS is its maximum; at OPEN_LOAD percent of it (25 50
#      80) each server gets the same offered rate from
#      `oha -q RATE --latency-correction` (OPEN_CONNS connections,
#      OPEN_DURATION), gzip 200 of FEED; latency counted from each request's
#      scheduled time; OPEN_REPEAT runs per load and server, taking turns,
#      and the median of their p50s and p99s counts;
#   8. prints req/s, p50, p99 per server and scenario with the ratio
#      wirefeed/nginx of req/s, and the open-loop p50/p99. Raw output stays
#      in OUT.
#
# Environment: N (2000), DURATION (10s), CONNS ("32 256"), THREADS (2), FEED
# (/feeds/all.rss), ARCHIVE (/feeds/archive/world/1.rss), OPEN_LOAD ("25 50
# 80"), OPEN_CONNS (64), OPEN_DURATION (10s), OPEN_REPEAT (3), WF_PORT (18081), NGINX_PORT
# (18082), OUT (bench/results/serve-<time>), plus those of bench/lib.sh
# (BENCH_CACHE, SEED, BENCH_BIN, SKIP_BUILD). oha: `cargo install oha`.
# wrk, oha, both servers and the client share this machine's cores: compare
# the two servers with each other, not with other machines.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=${N:-2000}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32 256}
THREADS=${THREADS:-2}
FEED=${FEED:-/feeds/all.rss}
ARCHIVE=${ARCHIVE:-/feeds/archive/world/1.rss}
OPEN_LOAD=${OPEN_LOAD:-25 50 80}
OPEN_CONNS=${OPEN_CONNS:-64}
OPEN_DURATION=${OPEN_DURATION:-10s}
OPEN_REPEAT=${OPEN_REPEAT:-3}
WF_PORT=${WF_PORT:-18081}
NGINX_PORT=${NGINX_PORT:-18082}
OUT=${OUT:-$BENCH_DIR/results/serve-$(date +%Y%m%d-%H%M%S)}

need wrk oha nginx curl gzip cmp "$PY"
build_wirefeed
ensure_corpus "$N"
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/wirefeed-serve.XXXXXX)
chmod 755 "$WORK"

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

WF="http://127.0.0.1:$WF_PORT"
NG="http://127.0.0.1:$NGINX_PORT"
export WIREFEED_SITE_BASE_URL=$WF   # links in the feeds: the same for build and serve

log "wirefeed build --out $WORK/site"
"$BIN" --config "$CORPUS/wirefeed.toml" build --out "$WORK/site" > "$OUT/build.log" 2>&1 \
  || die "wirefeed build failed: $(tail -3 "$OUT/build.log")"
find "$WORK/site" -maxdepth 2 -type f \( -name '*.rss' -o -name '*.atom' -o -name '*.json' \
  -o -name '*.opml' -o -name 'index.html' \) -exec gzip -k -9 {} +
[[ -f $WORK/site$ARCHIVE ]] || die "build wrote no $ARCHIVE"
gzip -k -9 "$WORK/site$ARCHIVE"

mkdir -p "$WORK/nginx/tmp"
user_line=""
[[ $(id -u) == 0 ]] && user_line="user root;"
cat > "$WORK/nginx/nginx.conf" <<EOF
$user_line
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    types {
        application/rss+xml  rss;
        application/atom+xml atom;
        application/feed+json json;
        text/x-opml          opml;
        text/html            html;
    }
    default_type application/octet-stream;
    charset utf-8;
    charset_types application/rss+xml application/atom+xml text/x-opml;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    gzip_static on;
    gzip_vary on;
    etag on;
    access_log off;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $WORK/site;
        add_header Cache-Control "public, max-age=60";
    }
}
EOF
cp "$WORK/nginx/nginx.conf" "$OUT/nginx.conf"

log "starting nginx on $NG and wirefeed serve on $WF"
nginx -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
PIDS+=($!)
WIREFEED_SERVER_LISTEN=127.0.0.1:$WF_PORT WIREFEED_ARTICLES_DIR=$CORPUS/articles \
  WIREFEED_STATE_DIR=$WORK/state WIREFEED_LOG=${WF_LOG:-info} \
  "$BIN" --config "$CORPUS/wirefeed.toml" serve 2> "$OUT/wirefeed.log" &
WF_PID=$!
PIDS+=($WF_PID)
$LIB wait-ready "$WF/readyz" 300 || die "wirefeed never became ready: $(tail -3 "$OUT/wirefeed.log")"
$LIB wait-ready "$NG$FEED" 30 || die "nginx does not serve $FEED: $(cat "$WORK/nginx/error.log")"
# A first start stores its archive pages after ready.
until curl -s "$WF/metrics" | grep -qx 'wirefeed_archive_pages_waiting 0'; do sleep 1; done
# ... and written (served identity from memory until then).
until [[ $($LIB status "$WF$ARCHIVE" "Accept-Encoding: gzip") == "200 gzip" ]]; do sleep 0.2; done

# Same bytes from both servers, for every feed.
checked=0
for p in $(cd "$WORK/site" && ls feeds/*.rss feeds/*.atom feeds/*.json | sed 's|^|/|') "$ARCHIVE"; do
  curl -sf "$WF$p" -o "$WORK/a" && curl -sf "$NG$p" -o "$WORK/b" \
    || die "GET $p failed"
  cmp -s "$WORK/a" "$WORK/b" || die "identity body of $p differs between wirefeed and nginx"
  curl -sf -H 'Accept-Encoding: gzip' "$WF$p" | gunzip > "$WORK/a"
  curl -sf -H 'Accept-Encoding: gzip' "$NG$p" | gunzip > "$WORK/b"
  cmp -s "$WORK/a" "$WORK/b" || die "gunzipped body of $p differs between wirefeed and nginx"
  checked=$((checked + 1))
done
bytes_id=$(curl -s "$WF$FEED" | wc -c)
bytes_gz=$(curl -s -H 'Accept-Encoding: gzip' "$WF$FEED" | wc -c)
bytes_gz_ng=$(curl -s -H 'Accept-Encoding: gzip' "$NG$FEED" | wc -c)
log "$checked feed files identical from both servers; $FEED is $bytes_id bytes, gzip $bytes_gz (wirefeed) / $bytes_gz_ng (nginx)"

ETAG_WF=$($LIB header "$WF$FEED" etag gzip)
ETAG_NG=$($LIB header "$NG$FEED" etag gzip)
[[ -n $ETAG_WF && -n $ETAG_NG ]] || die "no ETag (wirefeed '$ETAG_WF', nginx '$ETAG_NG')"

run_wrk() { # server-name url expect out conns headers...
  local name=$1 url=$2 expect=$3 out=$4 conns=$5
  shift 5
  local got
  got=$($LIB status "$url" "$@")
  [[ $got == "$expect" ]] || die "$name $url with [$*]: got '$got', want '$expect'"
  local hargs=()
  local h
  for h in "$@"; do hargs+=(-H "$h"); done
  wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency "${hargs[@]}" "$url" > "$out" 2>&1 \
    || die "wrk failed: $(tail -3 "$out")"
}

declare -A R
scenarios=(gzip identity 304 archive)
for conns in $CONNS; do
  for sc in "${scenarios[@]}"; do
    for srv in wirefeed nginx; do
      if [[ $srv == wirefeed ]]; then base=$WF; etag=$ETAG_WF; else base=$NG; etag=$ETAG_NG; fi
      out=$OUT/wrk-$sc-c$conns-$srv.txt
      log "wrk $sc $srv ($DURATION, $THREADS threads, $conns connections)"
      case $sc in
        gzip) run_wrk "$srv" "$base$FEED" "200 gzip" "$out" "$conns" "Accept-Encoding: gzip" ;;
        identity) run_wrk "$srv" "$base$FEED" "200 identity" "$out" "$conns" ;;
        304) run_wrk "$srv" "$base$FEED" "304 identity" "$out" "$conns" "Accept-Encoding: gzip" "If-None-Match: $etag" ;;
        archive) run_wrk "$srv" "$base$ARCHIVE" "200 gzip" "$out" "$conns" "Accept-Encoding: gzip" ;;
      esac
      R[$sc-c$conns-$srv]=$($LIB wrk "$out")
      sleep 1
    done
  done
done

# Open loop at fixed shares of nginx's maximum.
top_conns=$(tr ' ' '\n' <<< "$CONNS" | sort -n | tail -1)
read -r ng_max _ <<< "${R[gzip-c$top_conns-nginx]}"
# A run's p99 is a few hundred requests: one stall of the shared machine
# moves it by milliseconds. So each load runs OPEN_REPEAT times, the servers
# taking turns first, and the median run counts.
declare -A O
for pct in $OPEN_LOAD; do
  rate=$(awk -v m="$ng_max" -v p="$pct" 'BEGIN { printf "%d", m * p / 100 }')
  for rep in $(seq 1 "$OPEN_REPEAT"); do
    order="wirefeed nginx"
    if (( rep % 2 == 0 )); then order="nginx wirefeed"; fi
    for srv in $order; do
      if [[ $srv == wirefeed ]]; then base=$WF; else base=$NG; fi
      out=$OUT/oha-$pct-$srv-$rep.json
      log "oha $srv: $rate req/s ($pct % of nginx's $ng_max), $OPEN_CONNS connections, $OPEN_DURATION, run $rep"
      oha -z "$OPEN_DURATION" -q "$rate" --latency-correction \
        -c "$OPEN_CONNS" --no-tui --output-format json -H "Accept-Encoding: gzip" "$base$FEED" \
        > "$out" 2> "$OUT/oha-$pct-$srv.err" || die "oha failed: $(tail -3 "$OUT/oha-$pct-$srv.err")"
      sleep 1
    done
  done
  for srv in wirefeed nginx; do
    O[$pct-$srv]="$rate $($LIB oha "$OUT"/oha-"$pct"-"$srv"-*.json)"
  done
done

wf_rss=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$WF_PID/status")
ng_rss=0
for p in $(pgrep -P "${PIDS[0]}") "${PIDS[0]}"; do
  ng_rss=$(awk -v a="$ng_rss" '/VmRSS/ {printf "%.0f", a + $2/1024}' "/proc/$p/status")
done

{
  echo "== bench/serve.sh: $N articles, GET $FEED ($bytes_id bytes identity, $bytes_gz gzip) and $ARCHIVE; wrk -t$THREADS -d$DURATION --latency"
  machine_summary
  printf '%-16s %14s %9s %9s %14s %9s %9s %8s\n' scenario "wirefeed req/s" p50_ms p99_ms "nginx req/s" p50_ms p99_ms ratio
  for conns in $CONNS; do
    for sc in "${scenarios[@]}"; do
      read -r wr w50 w99 wn we <<< "${R[$sc-c$conns-wirefeed]}"
      read -r nr n50 n99 nn ne <<< "${R[$sc-c$conns-nginx]}"
      ratio=$(awk -v a="$wr" -v b="$nr" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
      printf '%-16s %14s %9s %9s %14s %9s %9s %8s\n' "$sc c$conns" "$wr" "$w50" "$w99" "$nr" "$n50" "$n99" "$ratio"
      if [[ $we != 0 || $ne != 0 ]]; then echo "  ($sc c$conns: errors or unexpected statuses: wirefeed $we, nginx $ne)"; fi
    done
  done
  echo "ratio = wirefeed req/s / nginx req/s."
  echo "open loop (oha --latency-correction, $OPEN_CONNS connections, $OPEN_DURATION, gzip $FEED), share of nginx's $ng_max req/s at c$top_conns; median of $OPEN_REPEAT runs each:"
  printf '%-8s %8s %13s %13s %10s %13s %13s %10s\n' load "req/s" "wirefeed p50" "wirefeed p99" "non-200" "nginx p50" "nginx p99" "non-200"
  for pct in $OPEN_LOAD; do
    read -r rate w50 w99 wbad weach <<< "${O[$pct-wirefeed]}"
    read -r _ n50 n99 nbad neach <<< "${O[$pct-nginx]}"
    printf '%-8s %8s %13s %13s %10s %13s %13s %10s\n' "$pct %" "$rate" "$w50" "$w99" "$wbad" "$n50" "$n99" "$nbad"
    echo "         p99 of each run (ms): wirefeed $weach, nginx $neach"
  done
  echo "RSS after the runs: wirefeed ${wf_rss} MB, nginx (master + workers) ${ng_rss} MB"
  echo "raw output: $OUT"
} | tee "$OUT/summary.txt"
