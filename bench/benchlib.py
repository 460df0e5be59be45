#!/usr/bin/env python3
"""Helpers shared by the bench/*.sh scripts (python3, stdlib only).

    benchlib.py wrk FILE                 -> "req_per_s p50_ms p99_ms requests errors"
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
import os
import re
import signal
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


def coldstart(args):
    url = time_out = log = None
    while args and args[0] != "--":
        opt, val, args = args[0], args[1], args[2:]
        if opt == "--url":
            url = val
        elif opt == "--time-out":
            time_out = val
        elif opt == "--log":
            log = val
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
        for k in kids:
            os.kill(k, signal.SIGTERM)
        proc.wait(timeout=60)
    if not ok:
        print(f"coldstart: {url} never answered 200; see {log}", file=sys.stderr)
        sys.exit(1)
    print(f"{ready:.3f} {hwm:.1f} {rss:.1f}")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "wrk":
        rps, p50, p99, n, err = parse_wrk(open(args[0]).read())
        print(f"{rps:.0f} {p50:.3f} {p99:.3f} {n} {err}")
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
