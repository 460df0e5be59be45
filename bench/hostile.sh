#!/usr/bin/env bash
# bench/hostile.sh: the hostile corpus against a running daemon, checked by a
# feed checker in URL mode (FEEDCHECK: a command taking --strict and feed
# URLs, e.g. one running xmllint, feedparser, the W3C Feed Validator,
# newsboat and feed-rs).
#
#   FEEDCHECK=path/to/feedcheck bench/hostile.sh   # needs target/release/wirefeed
#
# Writes the bad files into a fresh articles directory next to a few good
# ones, starts `wirefeed serve` on 127.0.0.1, and checks that: the daemon
# stays up, every bad file has one log line naming it (rejected or
# cleaned), and every served feed passes feedcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BENCH_BIN:-target/release/wirefeed}
FEEDCHECK=${FEEDCHECK:?set FEEDCHECK to the feed checker command}
PORT=${PORT:-18095}
work=$(mktemp -d /tmp/wirefeed-hostile.XXXXXX)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/articles/world"
cp tests/fixtures/seed_layout.txt tests/fixtures/yaml_front.md tests/fixtures/article.json "$work/articles/world/"

python3 - "$work/articles" <<'PY'
import os, random, sys
d = sys.argv[1]
by = "Published May 14, 2024 | 02:10 PM"
w = lambda name, data: open(os.path.join(d, name), "wb").write(data if isinstance(data, bytes) else data.encode())
rnd = random.Random(6)
w("empty.txt", b"")
w("spaces.md", b"  \n\t\n")
w("random.txt", bytes(rnd.randrange(256) for _ in range(4096)))
w("nuls.json", b"\0" * 1000)
w("mixed.txt", f"Mixed Encoding\n{by}\nValid then ".encode() + b"\xff\xfe broken \xc3\x28 and caf\xe9.\n")
w("cp1252.txt", f"Minister\x92s Visit\n{by}\n\x93Quoted\x94 \x97 text.\n".encode("latin-1"))
ctl = "".join(chr(c) for c in range(32) if chr(c) not in "\n\r\t")
w("controls.txt", f"Every Control{ctl} Char\n{by}\nBody{ctl} text.\n" + "A plain paragraph.\n" * 20)
w("nonchars.txt", f"Nonchars \ufffe\uffff Title\n{by}\nBody \ufffe ]]> and ]]&gt;.\n")
w("xss.md", "---\ntitle: \"<script>alert(1)</script> Head\"\ndate: 2024-05-14T10:00:00\n---\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))\n")
w("xss.json", '{"title":"J <b>x</b>","published":"2024-05-14T10:00:00","body":"<p onclick=\\"x()\\">hi</p><script>e()</script><a href=\\"javascript:alert(1)\\">l</a>","url":"javascript:alert(1)"}')
w("escape.md", '---\ntitle: "Scrip\\ed \\0 \\a"\ndate: 2024-05-14T10:00:00\n---\nBody.\n')
w("long_title.txt", "word " * 2000 + f"\n{by}\nBody.\n")
w("huge.txt", f"Huge\n{by}\n" + "x" * (9 * 1024 * 1024))
w("lines.txt", f"Many Lines\n{by}\n" + "A line.\n" * 100000)
w("nested.md", "---\ntitle: N\ndeep: " + "[" * 10000 + "]" * 10000 + "\n---\nBody.\n")
w("bomb.md", "---\ntitle: Bomb\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" +
  "".join(f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, n in zip("abcdefgh", "bcdefghi")) + "---\nBody.\n")
w("deep.json", "[" * 100000 + "]" * 100000)
w("year0.md", "---\ntitle: Year Zero\ndate: 0000-01-01T00:00:00Z\n---\nBody.\n")
w("year9999.md", "---\ntitle: Far Future\ndate: 9999-12-31T00:00:00Z\n---\nBody.\n")
w("negative.json", '{"title":"Negative","published":"-0044-03-15T00:00:00Z","body":"x"}')
w("blank_title.md", "---\ntitle: \"   \"\ndate: 2024-05-14\n---\nBody.\n")
PY
bad=(empty.txt spaces.md random.txt nuls.json mixed.txt cp1252.txt controls.txt nonchars.txt escape.md long_title.txt huge.txt nested.md bomb.md deep.json year0.md negative.json blank_title.md)

WIREFEED_SERVER_LISTEN=127.0.0.1:$PORT WIREFEED_ARTICLES_DIR=$work/articles WIREFEED_STATE_DIR=$work/state \
  WIREFEED_SITE_BASE_URL=http://127.0.0.1:$PORT WIREFEED_LOG=info "$BIN" serve >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
kill -0 "$pid"
echo "daemon up (pid $pid) on the hostile corpus"
missing=0
for f in "${bad[@]}"; do
  line=$(grep -E "(rejected|cleaned) file" "$work/log" | grep -F "$f" | head -1 || true)
  if [ -z "$line" ]; then echo "NO LOG LINE for $f"; missing=1; else echo "$f: $(echo "$line" | sed -E 's/.*(rejected file|cleaned file)/\1/' | cut -c1-150)"; fi
done
urls=()
for slug in all world pakistan business sports technology; do
  for ext in rss atom; do urls+=("http://127.0.0.1:$PORT/feeds/$slug.$ext"); done
  curl -fs "http://127.0.0.1:$PORT/feeds/$slug.json" | python3 -c 'import json,sys; json.load(sys.stdin)'
done
status=0
"$FEEDCHECK" -q "${urls[@]}" > "$work/feedcheck.txt" || status=$?
grep -E "^ *~|VERDICT: (WARN|FAIL)" "$work/feedcheck.txt" | sort | uniq -c
sed -n '/^SUMMARY/,$p' "$work/feedcheck.txt"

kill -0 "$pid" && echo "daemon still up"
exit $(( status || missing ))
