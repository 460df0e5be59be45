#!/usr/bin/env python3
"""bench/abuse.py: wirefeed under HTTP abuse, on loopback only.

Starts `wirefeed serve` (release build) on the shipped config and, while a
well-behaved client keeps fetching /feeds/all.rss on a keep-alive
connection, applies in turn:

  idle      IDLE (10 000) connections opened and left silent;
  slowloris SLOW (1 000) connections dribbling one header byte a second;
  flood     FLOOD_CONNS (256) clients requesting as fast as they can;
  traversal encoded and raw `..` paths, overlong UTF-8, huge URI and headers.

For each phase it prints the connections the server holds (ss), its RSS
(VmRSS / VmHWM), and the well-behaved client's p50/p99/max latency, against
a quiet baseline. Every loop is bounded in count and time; everything binds
127.0.0.1. Usage: python3 bench/abuse.py [--bin target/release/wirefeed]
Environment: IDLE, SLOW, FLOOD_CONNS, PHASE_SECONDS (10), HEADER_TIMEOUT (5s).
"""
import argparse, http.client, os, resource, shutil, socket, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT = int(os.environ.get("ABUSE_PORT", "18090"))
IDLE = int(os.environ.get("IDLE", "10000"))
SLOW = int(os.environ.get("SLOW", "1000"))
FLOOD = int(os.environ.get("FLOOD_CONNS", "256"))
PHASE = float(os.environ.get("PHASE_SECONDS", "10"))
TIMEOUT = os.environ.get("HEADER_TIMEOUT", "5s")


def rss(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                k, v = line.split(":")
                out[k] = int(v.split()[0]) // 1024
    return out


def held():
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{PORT} )"],
                         capture_output=True, text=True).stdout
    return len([l for l in out.splitlines() if l.strip()])


def client_latencies(stop, out):
    """A well-behaved reader arriving anew for every fetch (a fresh
    connection each time, so it must get through accept like a newcomer)."""
    while not stop.is_set():
        t = time.perf_counter()
        conn = None
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            conn.request("GET", "/feeds/all.rss", headers={"Accept-Encoding": "gzip"})
            r = conn.getresponse()
            r.read()
            ok = r.status == 200
        except Exception:
            ok = False
        if conn is not None:
            conn.close()
        out.append((time.perf_counter() - t) * 1000 if ok else float("inf"))
        time.sleep(0.005)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


def phase(name, pid, action):
    stop, lat = threading.Event(), []
    t = threading.Thread(target=client_latencies, args=(stop, lat))
    t.start()
    cleanup = action()
    time.sleep(PHASE / 2)
    mid_held, mid_rss = held(), rss(pid)
    time.sleep(PHASE / 2)
    stop.set()
    t.join()
    failures = sum(1 for x in lat if x == float("inf"))
    ok = [x for x in lat if x != float("inf")]
    print(f"{name:<10} held={mid_held:<6} rss={mid_rss['VmRSS']:>4} MB hwm={mid_rss['VmHWM']:>4} MB  "
          f"client: n={len(lat):<5} fail={failures:<3} p50={pct(ok,50):6.2f} ms p99={pct(ok,99):7.2f} ms max={max(ok, default=0):8.2f} ms",
          flush=True)
    if cleanup:
        cleanup()


def open_idle():
    socks = []
    for _ in range(IDLE):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", PORT))
        except BlockingIOError:
            pass
        socks.append(s)
    return lambda: [s.close() for s in socks]


def slowloris():
    stop = threading.Event()
    socks = []
    for _ in range(SLOW):
        try:
            s = socket.create_connection(("127.0.0.1", PORT), timeout=2)
            s.sendall(b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        except OSError:
            pass

    def dribble():
        while not stop.is_set():
            for s in list(socks):
                try:
                    s.send(b"X")
                except OSError:
                    socks.remove(s)
            time.sleep(1)

    t = threading.Thread(target=dribble)
    t.start()

    def done():
        stop.set()
        t.join()
        print(f"{'':<10} slowloris connections still open after {PHASE:.0f}s: {len(socks)} of {SLOW}")
        [s.close() for s in socks]
    return done


def flood():
    wrk = shutil.which("wrk")
    if not wrk:
        print("flood: wrk not installed (apt-get install wrk); skipped")
        return None
    p = subprocess.Popen([wrk, "-t2", f"-c{FLOOD}", f"-d{int(PHASE)}s", "-H", "Accept-Encoding: gzip",
                          f"http://127.0.0.1:{PORT}/feeds/all.rss"], stdout=subprocess.PIPE, text=True)

    def done():
        out = p.communicate(timeout=PHASE + 30)[0]
        rps = [l for l in out.splitlines() if "Requests/sec" in l]
        print(f"{'':<10} flood: {rps[0].strip() if rps else out[-200:]}")
    return done


def traversal():
    cases = ["/articles/../../etc/passwd", "/articles/..%2F..%2Fetc%2Fpasswd", "/articles/%2e%2e/%2e%2e/etc/passwd",
             "/articles/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "/feeds/../../../etc/passwd", "/" + "a" * 70000]
    for target in cases:
        s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except OSError:
            pass
        s.close()
        status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "closed"
        leaked = b"root:" in data
        print(f"traversal  {target[:48]:<48} -> {status}{'  LEAK' if leaked else ''}")
        assert not leaked
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/wirefeed"))
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    state = tempfile.mkdtemp(prefix="wirefeed-abuse-")
    env = dict(os.environ, WIREFEED_SERVER_LISTEN=f"127.0.0.1:{PORT}", WIREFEED_STATE_DIR=state,
               WIREFEED_SERVER_HEADER_READ_TIMEOUT=TIMEOUT, WIREFEED_LOG="warn")
    server = subprocess.Popen([args.bin, "serve"], cwd=ROOT, env=env, preexec_fn=lambda: resource.setrlimit(
        resource.RLIMIT_NOFILE, (min(hard, 65536), hard)))
    try:
        for _ in range(200):
            try:
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        print(f"wirefeed pid {server.pid}, header_read_timeout {TIMEOUT}, phases of {PHASE:.0f}s")
        phase("baseline", server.pid, lambda: None)
        phase("idle", server.pid, open_idle)
        phase("slowloris", server.pid, slowloris)
        phase("flood", server.pid, flood)
        traversal()
        phase("after", server.pid, lambda: None)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
