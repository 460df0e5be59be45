#!/usr/bin/env python3
"""Write -> visible measurement for bench/latency.sh (python3, stdlib only).

    burst.py write  --root ARTICLES --n 10000 --run RUN --out writes.csv
    burst.py poll   --base URL --run RUN --out seen.csv --stop FILE [--interval 0.005]
    burst.py load   --url URL --rps 200 --conns 4 --out load.csv --stop FILE
    burst.py cpu    --out FILE [--proc LABEL=PID]...
    burst.py report --writes writes.csv --seen seen.csv --log daemon.log --base-count N
                    [--load load.csv] [--metrics-before F --metrics-after F]
                    [--cpu-base F --cpu-start F --cpu-end F]

write: builds N scraped-page (.txt) articles in memory first (bench/corpus.py
  text, seed layout), each with a unique title token `zq<RUN>n<seq>`, a
  category folder and a byline date one minute after the previous one, all
  newer than any corpus article (the corpus ends 2024-12-31) and in the past
  (the last is two minutes before now). Then writes them one after the other
  as fast as it can (open, write, close) into ARTICLES/<category>/, and records
  per file the wall-clock time just after close(): writes.csv (seq, token,
  slug, t_write).

poll: every INTERVAL, a conditional GET (If-None-Match) of /feeds/all.json and
  of the 8 category JSON feeds over keep-alive connections; on a changed body
  it records the first time each token is seen: seen.csv (token, t_seen).

load: a paced client on URL (Accept-Encoding: gzip, keep-alive): CONNS
  threads, each sending RPS/CONNS requests per second on a fixed schedule.
  Latency is measured from the scheduled send time, so a stalled server is
  not hidden by the client waiting (coordinated omission): load.csv
  (t_sched, latency_s, status).

cpu: a snapshot of CPU time (JSON): the machine's busy and total jiffies
  from /proc/stat, and per LABEL the jiffies of each thread of PID (threads
  named alike, `wirefeed-read-1` and `-2`, are summed). `write --cpu-out F
  --cpu-proc LABEL=PID...` takes one just before its first write, with its
  own CPU time for the writing added at the end.

report: see the header of bench/latency.sh for the method.
"""

import argparse
import bisect
import csv
import datetime as dt
import http.client
import json
import math
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402

TOKEN = re.compile(rb"zq\d+n\d{6}")
THREAD_NO = re.compile(r"-\d+$")


def cpu_snapshot(procs):
    """Jiffies now: the machine's (busy, total) and each process's threads."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    snap = {"t": time.time(), "busy": sum(v) - v[3] - v[4], "total": sum(v), "procs": {}}
    for label, pid in procs:
        threads = {}
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    st = f.read()
            except OSError:
                continue
            name = THREAD_NO.sub("", st[st.index("(") + 1:st.rindex(")")])
            fields = st[st.rindex(")") + 2:].split()
            threads[name] = threads.get(name, 0) + int(fields[11]) + int(fields[12])
        snap["procs"][label] = threads
    return snap


def parse_procs(items):
    out = []
    for item in items or []:
        label, _, pid = item.partition("=")
        out.append((label, int(pid)))
    return out


def cmd_cpu(a):
    if a.wait_log:
        # Follow the daemon's log (cheaper than asking /metrics in a loop)
        # until a publish holds N articles.
        want = re.compile(r" published .*articles=(\d+)")
        deadline = time.time() + a.timeout
        pos, buf = 0, ""
        while time.time() < deadline:
            with open(a.wait_log) as f:
                f.seek(pos)
                buf += f.read()
                pos = f.tell()
            lines = buf.split("\n")
            buf = lines.pop()
            if any((m := want.search(line)) and int(m.group(1)) >= a.want for line in lines):
                break
            time.sleep(0.002)
    with open(a.out, "w") as f:
        json.dump(cpu_snapshot(parse_procs(a.proc)), f)


def cmd_write(a):
    now = dt.datetime.now(dt.timezone.utc)
    last = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=2)
    first = last - dt.timedelta(minutes=a.n - 1)
    if first <= dt.datetime(2025, 1, 1, tzinfo=corpus.PKT):
        sys.exit("burst dates would overlap the corpus (2023-2024): fewer files or a later clock")
    files = []
    for seq in range(a.n):
        token = f"zq{a.run}n{seq:06d}"
        art = corpus.article(10_000 + a.run, seq, when=first + dt.timedelta(minutes=seq),
                             token=token, fmt="txt", category=seq % len(corpus.CATEGORIES))
        _, text = corpus.render(art)
        path = os.path.join(a.root, art["slug"], f"burst-{a.run}-{seq:06d}.txt")
        files.append((seq, token, art["slug"], path, text.encode()))
    rows = []
    snap = cpu_snapshot(parse_procs(a.cpu_proc)) if a.cpu_out else None
    cpu0 = os.times()
    t_start = time.time()
    for seq, token, slug, path, data in files:
        if a.rate > 0:  # paced: file seq is due at t_start + seq / rate
            delay = t_start + seq / a.rate - time.time()
            if delay > 0:
                time.sleep(delay)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, data)
        os.close(fd)
        rows.append((seq, token, slug, time.time()))
    t_end = time.time()
    cpu1 = os.times()
    if snap:
        snap["writer_cpu_s"] = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        with open(a.cpu_out, "w") as f:
            json.dump(snap, f)
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["seq", "token", "slug", "t_write"])
        w.writerows(rows)
    print(f"wrote {a.n} files in {t_end - t_start:.3f} s "
          f"({a.n / max(t_end - t_start, 1e-9):.0f} files/s)", file=sys.stderr)


class Conn:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.c = None

    def get(self, path, headers):
        for attempt in range(2):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection(self.host, self.port, timeout=10)
                self.c.request("GET", path, headers=headers)
                r = self.c.getresponse()
                return r.status, r.getheader("ETag"), r.read()
            except (OSError, http.client.HTTPException):
                self.c = None
                if attempt:
                    raise
        raise AssertionError


def cmd_poll(a):
    feeds = ["/feeds/all.json"] + [f"/feeds/{s}.json" for s, _ in corpus.CATEGORIES]
    conn = Conn(a.base)
    etags = {}
    seen = {}
    prefix = f"zq{a.run}n".encode()
    polls = changed = 0
    t_end = time.time() + a.timeout
    while not os.path.exists(a.stop) and time.time() < t_end:
        for path in feeds:
            hdrs = {"If-None-Match": etags[path]} if path in etags else {}
            try:
                status, etag, body = conn.get(path, hdrs)
            except (OSError, http.client.HTTPException):
                continue
            t = time.time()
            polls += 1
            if status == 200:
                changed += 1
                etags[path] = etag
                for m in TOKEN.findall(body):
                    if m.startswith(prefix) and m not in seen:
                        seen[m] = t
        time.sleep(a.interval)
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["token", "t_seen"])
        for tok, t in seen.items():
            w.writerow([tok.decode(), f"{t:.6f}"])
    print(f"poller: {polls} requests, {changed} changed bodies, {len(seen)} burst tokens seen",
          file=sys.stderr)


def cmd_load(a):
    rows = []
    lock = threading.Lock()
    stop = threading.Event()
    period = a.conns / a.rps

    def worker(k):
        conn = Conn(a.url)
        path = urllib.parse.urlsplit(a.url).path
        nxt = time.time() + k * period / a.conns
        out = []
        while not stop.is_set():
            delay = nxt - time.time()
            if delay > 0:
                time.sleep(delay)
            try:
                status, _, _ = conn.get(path, {"Accept-Encoding": "gzip"})
            except (OSError, http.client.HTTPException):
                status = 0
            out.append((nxt, time.time() - nxt, status))
            nxt += period
        with lock:
            rows.extend(out)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(a.conns)]
    for t in threads:
        t.start()
    t_end = time.time() + a.timeout
    while not os.path.exists(a.stop) and time.time() < t_end:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    rows.sort()
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_sched", "latency_s", "status"])
        w.writerows((f"{t:.6f}", f"{lat:.6f}", st) for t, lat, st in rows)


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, math.ceil(p / 100 * len(xs)) - 1))
    return xs[k]


def fmt_ms(xs):
    if not xs:
        return "n/a"
    return (f"p50 {pct(xs, 50) * 1e3:9.1f} ms   p99 {pct(xs, 99) * 1e3:9.1f} ms   "
            f"max {max(xs) * 1e3:9.1f} ms   (n={len(xs)})")


LOG_LINE = re.compile(r"^(\S+Z)\s+INFO\s.*?\bpublished\b.*?\barticles=(\d+).*?\bms=([\d.]+)")


def read_publishes(path):
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LOG_LINE.match(line)
            if m and "full scan" not in line:
                t = dt.datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp()
                out.append((t, int(m.group(2)), float(m.group(3))))
    return out


def read_hist(path, name):
    buckets, total, count = [], 0.0, 0
    if not path or not os.path.exists(path):
        return buckets, total, count
    with open(path) as f:
        for line in f:
            if line.startswith(f"{name}_bucket"):
                le = re.search(r'le="([^"]+)"', line).group(1)
                buckets.append((float("inf") if le == "+Inf" else float(le), float(line.split()[-1])))
            elif line.startswith(f"{name}_sum"):
                total = float(line.split()[-1])
            elif line.startswith(f"{name}_count"):
                count = int(float(line.split()[-1]))
    return buckets, total, count


def hist_quantile(buckets, q):
    if not buckets or buckets[-1][1] == 0:
        return float("nan")
    rank = q * buckets[-1][1]
    for le, c in buckets:
        if c >= rank:
            return le
    return float("inf")


def cmd_report(a):
    with open(a.writes) as f:
        writes = [(float(r["t_write"]), r["token"], r["slug"]) for r in csv.DictReader(f)]
    writes.sort()
    seen = {}
    if os.path.exists(a.seen):
        with open(a.seen) as f:
            seen = {r["token"]: float(r["t_seen"]) for r in csv.DictReader(f)}
    pubs = [p for p in read_publishes(a.log) if p[0] >= writes[0][0] - 1]
    n = len(writes)
    t_first, t_last = writes[0][0], writes[-1][0]
    print(f"burst: {n} files written in {t_last - t_first:.3f} s "
          f"({n / max(t_last - t_first, 1e-9):.0f} files/s)")

    # Method A: daemon log. After the publish logged at time T the catalog
    # holds `articles` entries; the burst adds only new paths, so
    # articles - base_count of them are in. Files are settled and read in
    # write order (inotify close-write order, batched), so the k-th written
    # file is visible at the first publish with articles >= base + k.
    counts = [p[1] for p in pubs]
    vis_a, missing = [], 0
    last_vis = None
    for k, (tw, _, _) in enumerate(writes, start=1):
        j = bisect.bisect_left(counts, a.base_count + k)
        # counts only grow during the burst; guard against a non-monotonic log.
        while j < len(pubs) and pubs[j][1] < a.base_count + k:
            j += 1
        if j == len(pubs):
            missing += 1
            continue
        vis_a.append(pubs[j][0] - tw)
        last_vis = pubs[j][0]
    print(f"A  write -> published (daemon log, all files)        : {fmt_ms(vis_a)}"
          + (f"   {missing} never published" if missing else ""))

    # Method B: first seen by the poller in any JSON feed (exact per file,
    # plus up to one poll cycle; only files that made a feed's newest 50).
    vis_b = [seen[tok] - tw for tw, tok, _ in writes if tok in seen]
    print(f"B  write -> first seen in a feed (poller, seen files): {fmt_ms(vis_b)}")
    # Consistency of A's ordering assumption: a file seen clearly before the
    # publish A assigns it means files were processed out of order.
    early = 0
    for k, (tw, tok, _) in enumerate(writes, start=1):
        j = bisect.bisect_left(counts, a.base_count + k)
        if tok in seen and j < len(pubs) and seen[tok] < pubs[j][0] - 0.002:
            early += 1
    print(f"   check: {early} of {len(vis_b)} seen files appeared before the publish A assigns them")

    if pubs:
        batch = [cur[1] - prev[1] for prev, cur in zip([(0, a.base_count, 0)] + pubs, pubs)]
        batch = [b for b in batch if b > 0]
        ms = [p[2] for p in pubs]
        print(f"publishes during the burst: {len(pubs)}; files per publish p50 {pct(batch, 50)} "
              f"max {max(batch) if batch else 0}; publish ms p50 {pct(ms, 50):.1f} p99 {pct(ms, 99):.1f} "
              f"max {max(ms):.1f}")
    if last_vis:
        print(f"all {n - missing} published {last_vis - t_last:.3f} s after the last write "
              f"({last_vis - t_first:.3f} s after the first)")

    b0, s0, c0 = read_hist(a.metrics_before, "wirefeed_watch_lag_seconds")
    b1, s1, c1 = read_hist(a.metrics_after, "wirefeed_watch_lag_seconds")
    if b1:
        diff = [(le, c - (b0[i][1] if i < len(b0) else 0)) for i, (le, c) in enumerate(b1)]
        cnt = c1 - c0
        mean = (s1 - s0) / cnt * 1e3 if cnt else float("nan")
        print(f"C  /metrics wirefeed_watch_lag_seconds during the burst (one sample per publish, its "
              f"oldest event): n={cnt} mean {mean:.1f} ms, p50 <= {hist_quantile(diff, .5) * 1e3:g} ms, "
              f"p99 <= {hist_quantile(diff, .99) * 1e3:g} ms (bucket bounds)")

    if a.cpu_start and a.cpu_end and os.path.exists(a.cpu_start) and os.path.exists(a.cpu_end):
        report_cpu(a, n)

    if a.load and os.path.exists(a.load):
        with open(a.load) as f:
            load = [(float(r["t_sched"]), float(r["latency_s"]), int(r["status"])) for r in csv.DictReader(f)]
        end = last_vis or t_last
        before = [lat for t, lat, st in load if t < t_first - 0.5]
        during = [lat for t, lat, st in load if t_first <= t <= end]
        bad = sum(1 for t, lat, st in load if t_first <= t <= end and st != 200)
        print(f"load GET {a.load_url or ''} before the burst            : {fmt_ms(before)}")
        print(f"load GET {a.load_url or ''} during the burst            : {fmt_ms(during)}"
              + (f"   {bad} non-200" if bad else ""))


def report_cpu(a, n):
    """Where the CPU went from the first write until every file was
    published: the machine's load and the daemon's time per file, by thread
    (over what it spends serving the poller and the load client alone, taken
    from the seconds before the burst)."""
    hz = os.sysconf("SC_CLK_TCK")
    with open(a.cpu_start) as f:
        s0 = json.load(f)
    with open(a.cpu_end) as f:
        s1 = json.load(f)
    base = None
    if a.cpu_base and os.path.exists(a.cpu_base):
        with open(a.cpu_base) as f:
            base = json.load(f)
    window = s1["t"] - s0["t"]
    cores = os.cpu_count() or 1
    busy = (s1["busy"] - s0["busy"]) / max(s1["total"] - s0["total"], 1) * 100 * cores

    def used(before, after, label):
        t0, t1 = before["procs"].get(label, {}), after["procs"].get(label, {})
        return {k: (v - t0.get(k, 0)) / hz for k, v in t1.items()}

    print(f"CPU from the first write until all were published ({window:.2f} s; the machine "
          f"{busy:.0f} % busy of {cores * 100} %):")
    daemon = used(s0, s1, "wirefeed")
    # Compression runs on idle CPU once the burst is published: apart.
    gzip = sum(v for k, v in daemon.items() if k.endswith("gzip"))
    work = {k: v for k, v in daemon.items() if not k.endswith("gzip")}
    idle_rate = 0.0
    if base:
        b = used(base, s0, "wirefeed")
        idle_rate = sum(v for k, v in b.items() if not k.endswith("gzip")) / max(s0["t"] - base["t"], 1e-9)
    total = sum(work.values())
    burst = total - idle_rate * window
    # Thread names are cut to 15 characters by the kernel.
    short = {"wirefeed-publis": "publish", "notify-rs inoti": "notify"}
    parts = ", ".join(f"{short.get(k, k.removeprefix('wirefeed-'))} {v / n * 1e6:.0f}"
                      for k, v in sorted(work.items(), key=lambda kv: -kv[1]) if v > 0)
    print(f"  wirefeed {total * 1e3:.0f} ms ({parts}; µs per file), of which the poller and load "
          f"client alone would take {idle_rate * window * 1e3:.0f} ms: {burst / n * 1e6:.1f} µs per "
          f"burst file; then compression {gzip * 1e3:.0f} ms")
    others = [f"{label} {sum(used(s0, s1, label).values()) * 1e3:.0f} ms"
              for label in s1["procs"] if label != "wirefeed"]
    if "writer_cpu_s" in s0:
        others.insert(0, f"writer {s0['writer_cpu_s'] * 1e3:.0f} ms ({s0['writer_cpu_s'] / n * 1e6:.0f} µs per file)")
    if others:
        print(f"  {', '.join(others)}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("--root", required=True)
    w.add_argument("--n", type=int, default=10000)
    w.add_argument("--run", type=int, required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--rate", type=float, default=0,
                   help="files per second (0: back to back, as fast as possible)")
    w.add_argument("--cpu-out", help="CPU snapshot just before the first write (see cpu)")
    w.add_argument("--cpu-proc", action="append", help="LABEL=PID to include in it")
    c = sub.add_parser("cpu")
    c.add_argument("--out", required=True)
    c.add_argument("--proc", action="append", help="LABEL=PID")
    c.add_argument("--wait-log", help="first wait for a publish of WANT articles in this log")
    c.add_argument("--want", type=int, default=0)
    c.add_argument("--timeout", type=float, default=600)
    q = sub.add_parser("poll")
    q.add_argument("--base", required=True)
    q.add_argument("--run", type=int, required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--stop", required=True)
    q.add_argument("--interval", type=float, default=0.005)
    q.add_argument("--timeout", type=float, default=900)
    ld = sub.add_parser("load")
    ld.add_argument("--url", required=True)
    ld.add_argument("--rps", type=float, default=200)
    ld.add_argument("--conns", type=int, default=4)
    ld.add_argument("--out", required=True)
    ld.add_argument("--stop", required=True)
    ld.add_argument("--timeout", type=float, default=900)
    r = sub.add_parser("report")
    r.add_argument("--writes", required=True)
    r.add_argument("--seen", required=True)
    r.add_argument("--log", required=True)
    r.add_argument("--base-count", type=int, required=True)
    r.add_argument("--load")
    r.add_argument("--load-url")
    r.add_argument("--metrics-before")
    r.add_argument("--metrics-after")
    r.add_argument("--cpu-base")
    r.add_argument("--cpu-start")
    r.add_argument("--cpu-end")
    a = p.parse_args()
    {"write": cmd_write, "poll": cmd_poll, "load": cmd_load, "cpu": cmd_cpu,
     "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
