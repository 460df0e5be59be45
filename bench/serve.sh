#!/usr/bin/env bash
# bench/serve.sh: `wirefeed serve` against nginx serving the same feed bytes.
#
#   bench/serve.sh                                   # 2000 articles, wrk -t2 -c64 -d10s
#   N=2000 DURATION=30s CONNS=128 THREADS=2 bench/serve.sh
#
# What it does:
#   1. cargo build --release (SKIP_BUILD=1 / BENCH_BIN=path to skip);
#   2. generates N articles (bench/corpus.py, cached in $BENCH_CACHE);
#   3. `wirefeed build --out SITE`, then `gzip -k -9` every feed file so that
#      nginx's gzip_static serves precompressed bodies (wirefeed keeps its
#      own gzip bodies, level 6, in memory);
#   4. starts nginx (temp nginx.conf: worker_processes auto, sendfile,
#      gzip_static, etag, access_log off, keepalive_requests 1000000 so both
#      servers keep their connections, types .rss/.atom/.json as wirefeed) on
#      127.0.0.1:NGINX_PORT with root SITE, and `wirefeed serve` on
#      127.0.0.1:WF_PORT (WIREFEED_SERVER_LISTEN / WIREFEED_ARTICLES_DIR /
#      WIREFEED_STATE_DIR overrides); waits for /readyz;
#   5. checks that every feed's identity body (and the gunzipped gzip body) is
#      byte-identical from both servers;
#   6. drives both with the same wrk settings on FEED (default /feeds/all.rss):
#      (a) 200 with Accept-Encoding: gzip, (b) 200 identity (no
#      Accept-Encoding), (c) 304: Accept-Encoding: gzip + If-None-Match with
#      the ETag that server sent for its gzip body;
#   7. prints scenario, req/s, p50, p99 (wrk --latency) per server and the
#      ratio wirefeed/nginx of req/s. Raw wrk output stays in OUT.
#
# Environment: N (2000), DURATION (10s), CONNS (64), THREADS (2), FEED
# (/feeds/all.rss), WF_PORT (18081), NGINX_PORT (18082), OUT (bench/results/
# serve-<time>), plus those of bench/lib.sh (BENCH_CACHE, SEED, BENCH_BIN,
# SKIP_BUILD).
# wrk, both servers and the client share this machine's cores: compare the
# two servers with each other, not with other machines.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=${N:-2000}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
FEED=${FEED:-/feeds/all.rss}
WF_PORT=${WF_PORT:-18081}
NGINX_PORT=${NGINX_PORT:-18082}
OUT=${OUT:-$BENCH_DIR/results/serve-$(date +%Y%m%d-%H%M%S)}

need wrk nginx curl gzip cmp "$PY"
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

# Same bytes from both servers, for every feed.
checked=0
for f in "$WORK"/site/feeds/*.rss "$WORK"/site/feeds/*.atom "$WORK"/site/feeds/*.json; do
  p=/feeds/$(basename "$f")
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

# scenario name | expected "status encoding" | wrk headers
run_wrk() { # server-name url expect out headers...
  local name=$1 url=$2 expect=$3 out=$4
  shift 4
  local got
  got=$($LIB status "$url" "$@")
  [[ $got == "$expect" ]] || die "$name $url with [$*]: got '$got', want '$expect'"
  local hargs=()
  local h
  for h in "$@"; do hargs+=(-H "$h"); done
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${hargs[@]}" "$url" > "$out" 2>&1 \
    || die "wrk failed: $(tail -3 "$out")"
}

declare -A R
scenarios=(gzip identity 304)
for sc in "${scenarios[@]}"; do
  for srv in wirefeed nginx; do
    if [[ $srv == wirefeed ]]; then base=$WF; etag=$ETAG_WF; else base=$NG; etag=$ETAG_NG; fi
    out=$OUT/wrk-$sc-$srv.txt
    log "wrk $sc $srv ($DURATION, $THREADS threads, $CONNS connections)"
    case $sc in
      gzip) run_wrk "$srv" "$base$FEED" "200 gzip" "$out" "Accept-Encoding: gzip" ;;
      identity) run_wrk "$srv" "$base$FEED" "200 identity" "$out" ;;
      304) run_wrk "$srv" "$base$FEED" "304 identity" "$out" "Accept-Encoding: gzip" "If-None-Match: $etag" ;;
    esac
    R[$sc-$srv]=$($LIB wrk "$out")
    sleep 1
  done
done

wf_rss=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$WF_PID/status")
ng_rss=0
for p in $(pgrep -P "${PIDS[0]}") "${PIDS[0]}"; do
  ng_rss=$(awk -v a="$ng_rss" '/VmRSS/ {printf "%.0f", a + $2/1024}' "/proc/$p/status")
done

{
  echo "== bench/serve.sh: $N articles, GET $FEED ($bytes_id bytes identity, $bytes_gz gzip), wrk -t$THREADS -c$CONNS -d$DURATION --latency"
  machine_summary
  printf '%-10s %14s %9s %9s %14s %9s %9s %8s\n' scenario "wirefeed req/s" p50_ms p99_ms "nginx req/s" p50_ms p99_ms ratio
  for sc in "${scenarios[@]}"; do
    read -r wr w50 w99 wn we <<< "${R[$sc-wirefeed]}"
    read -r nr n50 n99 nn ne <<< "${R[$sc-nginx]}"
    ratio=$(awk -v a="$wr" -v b="$nr" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    printf '%-10s %14s %9s %9s %14s %9s %9s %8s\n' "$sc" "$wr" "$w50" "$w99" "$nr" "$n50" "$n99" "$ratio"
    if [[ $we != 0 || $ne != 0 ]]; then echo "  ($sc: errors or unexpected statuses: wirefeed $we, nginx $ne)"; fi
  done
  echo "ratio = wirefeed req/s / nginx req/s. RSS after the runs: wirefeed ${wf_rss} MB, nginx (master + workers) ${ng_rss} MB"
  echo "raw wrk output: $OUT"
} | tee "$OUT/summary.txt"
