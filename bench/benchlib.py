#!/usr/bin/env python3
"""Helpers shared by the bench/*.sh scripts (python3, stdlib only).

    benchlib.py wrk FILE                 -> "req_per_s p50_ms p99_ms requests errors"
    benchlib.py oha FILE...              -> "p50_ms p99_ms not_200 p99/p99/..." (median of the runs)
    benchlib.py timev FILE               -> "elapsed_s max_rss_mb" (/usr/bin/time -v output)
    benchlib.py wait-ready URL [TIMEOUT] -> waits for HTTP 200 (polls every 10 ms)
    benchlib.py header URL NAME [ACCEPT_ENCODING] -> value of a response header
    benchlib.py status URL [HEADER: VALUE ...]    -> "status content-encoding"
    benchlib.py coldstart --url URL --time-out FILE --log FILE -- CMD...
        starts CMD under /usr/bin/time -v, polls URL every 10 ms until 200 and
        prints "ready_s vmhwm_mb vmrss_mb" (seconds from just before the
        process is started to the first 200; peak and current RSS of CMD at
        that moment), then stops CMD with SIGTERM and waits for it.
"""

import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def parse_wrk(text):
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    reqs = re.search(r"(\d+) requests in", text)
    errors = 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if sock:
        errors += sum(int(x) for x in sock.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non2xx:
        errors += int(non2xx.group(1))
    return (
        float(rps.group(1)) if rps else float("nan"),
        _ms(p50.group(1)) if p50 else float("nan"),
        _ms(p99.group(1)) if p99 else float("nan"),
        int(reqs.group(1)) if reqs else 0,
        errors,
    )


def parse_oha(text):
    """p50 and p99 in ms, and how many answers were not 200, from
    `oha --output-format json`."""
    data = json.loads(text)
    pct = data.get("latencyPercentiles", {})
    codes = data.get("statusCodeDistribution", {})
    bad = sum(int(n) for code, n in codes.items() if str(code) != "200")
    # Requests still in flight when the run's time is up are not errors.
    bad += sum(int(n) for e, n in data.get("errorDistribution", {}).items()
               if "deadline" not in e)
    ms = lambda v: float("nan") if v is None else v * 1e3
    return ms(pct.get("p50")), ms(pct.get("p99")), bad


def parse_timev(text):
    el = re.search(r"Elapsed \(wall clock\) time.*?:\s+(?:(\d+):)?(\d+):([\d.]+)", text)
    rss = re.search(r"Maximum resident set size \(kbytes\):\s+(\d+)", text)
    secs = float("nan")
    if el:
        h = int(el.group(1) or 0)
        secs = h * 3600 + int(el.group(2)) * 60 + float(el.group(3))
    return secs, (int(rss.group(1)) / 1024 if rss else float("nan"))


def request(url, headers=None, method="GET", timeout=2.0):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        conn.request(method, u.path + (f"?{u.query}" if u.query else ""), headers=headers or {})
        r = conn.getresponse()
        body = r.read()
        return r.status, r.getheaders(), body
    finally:
        conn.close()


def status_of(url):
    try:
        return request(url, timeout=1.0)[0]
    except OSError:
        return None


def wait_ready(url, timeout=600.0, interval=0.01, proc=None):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if status_of(url) == 200:
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(interval)
    return False


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def wait_log(path, needle, proc, timeout=7200.0):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end and proc.poll() is None:
        with open(path, errors="replace") as f:
            if needle in f.read():
                return True
        time.sleep(0.2)
    return False


def coldstart(args):
    """Prints seconds to ready, VmHWM and VmRSS (MB) at ready; with
    --until-log TEXT, also seconds until the log says TEXT and VmHWM then."""
    url = time_out = log = until = None
    while args and args[0] != "--":
        opt, val, args = args[0], args[1], args[2:]
        if opt == "--url":
            url = val
        elif opt == "--time-out":
            time_out = val
        elif opt == "--log":
            log = val
        elif opt == "--until-log":
            until = val
    cmd = args[1:]
    with open(log, "w") as logf:
        t0 = time.monotonic()
        proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", time_out, *cmd],
                                stdout=logf, stderr=logf)
        ok = wait_ready(url, proc=proc)
        ready = time.monotonic() - t0
        kids = _children(proc.pid)
        hwm = sum(_status_kb(k, "VmHWM") for k in kids) / 1024
        rss = sum(_status_kb(k, "VmRSS") for k in kids) / 1024
        extra = ""
        if ok and until is not None:
            seen = wait_log(log, until, proc)
            later = time.monotonic() - t0
            hwm_later = sum(_status_kb(k, "VmHWM") for k in kids) / 1024
            extra = f" {later:.3f} {hwm_later:.1f}" if seen else " - -"
        for k in kids:
            os.kill(k, signal.SIGTERM)
        proc.wait(timeout=60)
    if not ok:
        print(f"coldstart: {url} never answered 200; see {log}", file=sys.stderr)
        sys.exit(1)
    print(f"{ready:.3f} {hwm:.1f} {rss:.1f}{extra}")


def _summary(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _stamp(text):
    m = re.search(r"^date: (\S+)T\S*\s+commit: (\S+)", text, re.M)
    return f"{m.group(1)}, {m.group(2)}" if m else "?"


def _row(text, label):
    """The fields after `label` on its line of an ingest summary."""
    for line in text.splitlines():
        if line.startswith(label):
            return line[len(label):].split()
    return []


def _num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _met(ok):
    return "yes" if ok else "**no**"


def table(all_dir, bench_md):
    """Writes the figures of bench/all.sh's steps as BENCHMARKS.md's table
    (between the figures markers) and prints it."""
    rows = []
    serve = _summary(os.path.join(all_dir, "serve", "summary.txt"))
    if serve:
        cmd = "`STEPS=serve bench/all.sh`"
        for line in serve.splitlines():
            m = re.match(r"(gzip|identity|304|archive) c(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", line)
            if m:
                sc, c, wr, _, w99, nr, _, n99, ratio = m.groups()
                what = {"gzip": "gzip 200", "identity": "identity 200", "304": "304",
                        "archive": "archive page, gzip 200"}[sc]
                rows.append((f"closed loop, {what}, {c} connections: req/s ≥ 1.0× nginx", cmd,
                             f"{float(wr):,.0f} req/s, p99 {w99} ms",
                             f"nginx {float(nr):,.0f} req/s, p99 {n99} ms; ratio {ratio}",
                             _met(_num(ratio) >= 1.0), _stamp(serve)))
            m = re.match(r"(\d+) %\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", line)
            if m:
                pct, rate, w50, w99, wbad, n50, n99, nbad = m.groups()
                rows.append((f"open loop at {pct} % of nginx's maximum ({int(rate):,} req/s): p99 ≤ nginx's",
                             cmd, f"p50 {w50} ms, p99 {w99} ms ({wbad} not 200)",
                             f"nginx p50 {n50} ms, p99 {n99} ms ({nbad} not 200)",
                             _met(_num(w99) <= _num(n99) and wbad == "0"), _stamp(serve)))
    for step in ("ingest-1m", "ingest-100k"):
        text = _summary(os.path.join(all_dir, step, "summary.txt"))
        if not text:
            continue
        m = re.search(r"bench/ingest.sh: (\d+) articles", text)
        n = f"{int(m.group(1)):,}" if m else "?"
        big = m is not None and int(m.group(1)) >= 1_000_000
        cmd = f"`STEPS={step} bench/all.sh`"
        cache = re.search(r"page cache: (\w+)", text)
        cache = cache.group(1) if cache else "?"
        cat = _row(text, "cat floor (1 process)")
        catp = _row(text, "cat floor (xargs -P")
        catp = catp[1:] if catp else []
        ready = _row(text, "wirefeed serve -> /readyz (empty state)")
        hist = _row(text, "  ... -> archives stored (same run)")
        restart = _row(text, "wirefeed serve -> /readyz (restart, state)")
        floor = _num(cat[0]) if cat else float("nan")
        if ready:
            ratio = _num(ready[0]) / floor if floor else float("nan")
            rows.append((f"{n} articles, cold start to `/readyz` ≤ 2× `cat` ({cache} page cache)", cmd,
                         f"{ready[0]} s ({ratio:.2f}× cat)",
                         f"cat {cat[0] if cat else '?'} s, parallel cat {catp[0] if catp else '?'} s",
                         _met(ratio <= 2.0), _stamp(text)))
            peak = hist[1] if len(hist) > 1 else "?"
            rows.append((f"{n} articles, peak RSS" + (" ≤ 400 MB" if big else ""), cmd,
                         f"{ready[1]} MB at ready; {peak} MB over the run", "",
                         _met(_num(peak) <= 400) if big else "", _stamp(text)))
        if hist:
            rows.append((f"{n} articles, first start to every archive page stored", cmd,
                         f"{hist[0]} s", "", "", _stamp(text)))
        if restart:
            rows.append((f"{n} articles, restart to `/readyz`", cmd, f"{restart[0]} s, {restart[1]} MB", "", "", _stamp(text)))
        build, hugo = _row(text, "wirefeed build --out"), _row(text, "hugo --quiet")
        if build and build[0] != "-":
            ratio = _num(hugo[0]) / _num(build[0]) if hugo else float("nan")
            rows.append((f"{n} articles, `wirefeed build --out` ≥ 10× faster than Hugo", cmd,
                         f"{build[0]} s, {build[1]} MB", f"Hugo {hugo[0]} s, {hugo[1]} MB ({ratio:.2f}×)",
                         _met(ratio >= 10), _stamp(text)))
    lat_dir = os.path.join(all_dir, "latency-1m")
    lat = _summary(os.path.join(lat_dir, "summary.txt"))
    if lat:
        cmd = "`STEPS=latency-1m bench/all.sh`"
        debounce = 20
        with open(os.path.join(lat_dir, "live.json")) as f:
            for line in f:
                r = json.loads(line)
                a, load = r.get("a") or {}, (r.get("load") or {}).get("during") or {}
                rate = r.get("rate") or 0
                base = f"{r.get('base_articles', 0):,}"
                fig = (f"p99 {a.get('p99_ms', float('nan')):.1f} ms (p50 {a.get('p50_ms', float('nan')):.1f}); "
                       f"feed GET p99 {load.get('p99_ms', float('nan')):.1f} ms")
                if rate:
                    rows.append((f"write→visible at {rate:,.0f} files/s onto {base} articles: p99 ≤ debounce + 50 ms",
                                 cmd, fig, f"{debounce} + 50 = {debounce + 50} ms",
                                 _met(a.get("p99_ms", 1e9) <= debounce + 50), _stamp(lat)))
                else:
                    rows.append((f"write→visible, unpaced writer onto {base} articles (a figure)", cmd,
                                 f"{r.get('writer_files_per_s', 0):,.0f} files/s written; " + fig, "", "", _stamp(lat)))
    with open(bench_md) as f:
        md = f.read()
    begin, end = "<!-- figures:begin -->\n", "<!-- figures:end -->"
    i, j = md.find(begin), md.find(end)
    if i < 0 or j < 0:
        sys.exit(f"{bench_md}: no {begin.strip()} ... {end} markers")
    # A step without results here (not run on this machine) keeps the rows
    # of its last run, in the table's order.
    ran = {s for s in ("serve", "ingest-1m", "ingest-100k", "latency-1m")
           if _summary(os.path.join(all_dir, s, "summary.txt"))}
    kept, fresh = [], {r[1]: [] for r in rows}
    for r in rows:
        fresh[r[1]].append(r)
    for line in md[i + len(begin):j].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        step = re.search(r"`STEPS=(\S+) bench/all.sh`", line)
        if len(cells) == 6 and step:
            if step.group(1) in ran:
                kept.extend(fresh.pop(cells[1], []))
            else:
                kept.append(tuple(cells))
    for left in fresh.values():
        kept.extend(left)
    out = ["| target | command | wirefeed | reference | met | date, commit |", "|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(r) + " |" for r in kept]
    body = "\n".join(out) + "\n"
    with open(bench_md, "w") as f:
        f.write(md[: i + len(begin)] + body + md[j:])
    print(body)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "wrk":
        rps, p50, p99, n, err = parse_wrk(open(args[0]).read())
        print(f"{rps:.0f} {p50:.3f} {p99:.3f} {n} {err}")
    elif cmd == "table":
        table(args[0], args[1])
    elif cmd == "oha":
        # One run or several (the median of their p50s and p99s, every
        # run's answers not 200, then each run's p99 joined by "/").
        runs = []
        for path in args:
            with open(path) as f:
                runs.append(parse_oha(f.read()))
        p50 = statistics.median(r[0] for r in runs)
        p99 = statistics.median(r[1] for r in runs)
        bad = sum(r[2] for r in runs)
        each = "/".join(f"{r[1]:.2f}" for r in runs)
        print(f"{p50:.2f} {p99:.2f} {bad} {each}")
    elif cmd == "timev":
        secs, rss = parse_timev(open(args[0]).read())
        print(f"{secs:.2f} {rss:.1f}")
    elif cmd == "wait-ready":
        sys.exit(0 if wait_ready(args[0], float(args[1]) if len(args) > 1 else 600.0) else 1)
    elif cmd == "header":
        hdrs = {"Accept-Encoding": args[2]} if len(args) > 2 else {}
        _, headers, _ = request(args[0], hdrs)
        print(dict((k.lower(), v) for k, v in headers).get(args[1].lower(), ""))
    elif cmd == "status":
        hdrs = dict(h.split(": ", 1) for h in args[1:])
        st, headers, _ = request(args[0], hdrs)
        print(st, dict((k.lower(), v) for k, v in headers).get("content-encoding", "identity"))
    elif cmd == "coldstart":
        coldstart(args)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
