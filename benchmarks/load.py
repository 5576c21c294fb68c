"""Load on the one-process server: concurrent clients through ``POST /api/ask`` and through the
Gradio endpoint ``/ask`` (gradio_client, and its plain HTTP API), with a one-client baseline
measured in the same run.

Usage::

    python benchmarks/load.py [--clients 16] [--questions 20] [--url http://127.0.0.1:7860]

Without ``--url`` it starts ``python -m assistant serve`` on a free port (index from the usual
settings, e.g. ``ASSISTANT_DATA_DIR``) and stops it afterwards. Each of ``--clients`` threads
asks ``--questions`` questions of ``seeds/questions.jsonl`` (with their history), client ``i``
starting at question ``i * questions``. Paths: ``api`` (httpx), ``gradio`` (gradio_client's
``predict(..., api_name="/ask")``) and ``gradio-http`` (the same endpoint through Gradio's plain
HTTP API with httpx; gradio_client costs more CPU than the server does per question, and the
clients share the machine with the server). Per path it reports:

* errors: failed requests, error replies, and answers that differ from the one-client baseline
  for the same question (so a thread-safety problem in the server shows up here); must be 0;
* p50 / p95 latency of one question as the client sees it (milliseconds);
* questions per second over the whole run (wall time);
* the ratio of the concurrent run to the one-client baseline (same server, same run), since
  absolute numbers on a shared 2-core machine mean little.

With ``--oversized`` it first measures the floors of issue 30 for oversized requests: how
long the server takes to refuse a 50 MB body (413, before reading it), and p95 of one client's
normal questions idle and while 4 threads keep sending 50 MB bodies (``--paths ""`` runs only
that). Each path is warmed up with one untimed pass over the questions first. ``--workers N``
instead compares ``/api/ask`` at 1, 16 and 64 clients on a one-process server and on a server
with N answering processes (``ASSISTANT_WORKERS``), started one after the other in this run. The clients run in this
process, on the same cores as the server, so the numbers include their cost too.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "seeds" / "questions.jsonl"


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0..100) by linear interpolation between closest ranks."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


@dataclass
class Run:
    """One load run: ``latencies_ms`` per question, ``errors`` as short messages, ``seconds`` wall time."""

    path: str
    clients: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def qps(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        n = len(self.latencies_ms)
        return (
            f"{self.path:11s} {self.clients:3d} clients  {n:4d} questions  errors {len(self.errors):3d}  "
            f"p50 {percentile(self.latencies_ms, 50):7.1f} ms  p95 {percentile(self.latencies_ms, 95):7.1f} ms  "
            f"p99 {percentile(self.latencies_ms, 99):7.1f} ms  "
            f"{self.qps:6.1f} questions/s"
        )

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "clients": self.clients,
            "questions": len(self.latencies_ms),
            "errors": len(self.errors),
            "p50_ms": round(percentile(self.latencies_ms, 50), 1),
            "p95_ms": round(percentile(self.latencies_ms, 95), 1),
            "p99_ms": round(percentile(self.latencies_ms, 99), 1),
            "questions_per_s": round(self.qps, 2),
            "error_samples": self.errors[:5],
        }


def comparable(d: dict) -> str:
    """The parts of an answer dict that must not depend on load (everything but timings)."""
    return json.dumps({k: v for k, v in d.items() if k != "timings_ms"}, sort_keys=True)


class ApiClient:
    """``POST /api/ask`` with one keep-alive connection."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=120)

    def ask(self, question: str, history: list[str]) -> dict:
        r = self.http.post("/api/ask", json={"question": question, "history": history})
        if r.status_code != 200:
            raise RuntimeError(f"HTTP {r.status_code}: {r.text[:120]}")
        return r.json()


class GradioClient:
    """The named Gradio endpoint ``/ask`` through gradio_client."""

    def __init__(self, url: str) -> None:
        from gradio_client import Client

        self.client = Client(url + "/", verbose=False)

    def ask(self, question: str, history: list[str]) -> dict:
        d = self.client.predict(question, history, api_name="/ask")
        if "error" in d:
            raise RuntimeError(d["error"])
        return d


class GradioHttpClient:
    """The same Gradio endpoint through its plain HTTP API (``POST /gradio_api/call/ask``, then the
    event stream of the result), with httpx: a light client, to tell the server's cost from
    gradio_client's own (which runs on the same cores)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=120)

    def ask(self, question: str, history: list[str]) -> dict:
        r = self.http.post(f"{self.url}/gradio_api/call/ask", json={"data": [question, history]})
        r.raise_for_status()
        event = None
        with self.http.stream("GET", f"{self.url}/gradio_api/call/ask/{r.json()['event_id']}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line[len("event:") :].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    if event == "error":
                        raise RuntimeError(f"Gradio error: {line[:120]}")
                    d = json.loads(line[len("data:") :])[0]
                    if "error" in d:
                        raise RuntimeError(d["error"])
                    return d
        raise RuntimeError("the event stream ended without a result")


def run(
    path: str, make_client, questions: list[dict], clients: int, per_client: int, expected: dict[str, str] | None
) -> tuple[Run, dict]:
    """``clients`` threads, each with its own client, ask ``per_client`` questions; returns the run and answers by id."""
    result = Run(path, clients)
    answers: dict[str, str] = {}
    lock = threading.Lock()
    conns = [make_client() for _ in range(clients)]  # connect before timing
    barrier = threading.Barrier(clients)

    def client(i: int) -> None:
        barrier.wait()
        for j in range(per_client):
            q = questions[(i * per_client + j) % len(questions)]
            t = time.perf_counter()
            try:
                d = conns[i].ask(q["question"], q.get("history", []))
                ms = (time.perf_counter() - t) * 1000.0
                got = comparable(d)
                with lock:
                    result.latencies_ms.append(ms)
                    answers[q["id"]] = got
                    if expected is not None and expected.get(q["id"]) != got:
                        result.errors.append(f"{q['id']}: answer differs from the one-client run")
            except Exception as err:  # counted, never fatal
                with lock:
                    result.errors.append(f"{q['id']}: {type(err).__name__}: {str(err)[:120]}")

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    result.seconds = time.perf_counter() - t0
    return result, answers


OVERSIZED_BYTES = 50 * 1024 * 1024
"""The oversized request of the issue-30 floor: a 50 MB body (bytes)."""


def refusal_ms(url: str, size: int = OVERSIZED_BYTES) -> tuple[float, bytes]:
    """Milliseconds from sending a ``size``-byte ``POST /api/ask``'s headers and first 64 kB to
    the server's reply, and the reply's status line (the server must refuse before reading it)."""
    from urllib.parse import urlparse

    u = urlparse(url)
    head = f"POST /api/ask HTTP/1.1\r\nHost: {u.hostname}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    with socket.create_connection((u.hostname, u.port), timeout=60) as s:
        t = time.perf_counter()
        s.sendall(head.encode() + b'{"question": "' + b"x" * 65_536)
        reply = s.recv(65_536)
        return (time.perf_counter() - t) * 1000.0, reply.split(b"\r\n", 1)[0]


def _send_oversized(url: str, stop, sent, pause: float) -> None:
    """A client process that keeps sending whole 50 MB ``POST /api/ask`` bodies over raw sockets
    (no copies of the body, so it costs what the kernel and the server spend, not Python),
    waiting ``pause`` seconds after each refusal (0: a flood of new connections)."""
    from urllib.parse import urlparse

    u = urlparse(url)
    head = f"POST /api/ask HTTP/1.1\r\nHost: {u.hostname}\r\nContent-Type: application/json\r\nContent-Length: {OVERSIZED_BYTES}\r\n\r\n"
    body = memoryview(bytes(OVERSIZED_BYTES))
    while not stop.is_set():
        try:
            with socket.create_connection((u.hostname, u.port), timeout=30) as s:
                s.sendall(head.encode())
                s.sendall(body)  # the server has refused after the headers and closes: this fails early
                s.recv(4096)
        except OSError:
            pass
        with sent.get_lock():
            sent.value += 1
        stop.wait(pause)


def oversized(
    url: str, questions: list[dict], senders: int = 4, pause: float = 0.25, rounds: int = 2, passes: int = 2, pid: int | None = None
) -> dict:
    """The issue-30 floors for oversized requests: the refusal time of a 50 MB body, and p95 of
    one client's normal questions when idle and while ``senders`` processes keep sending 50 MB
    bodies (each whole, as a careless or hostile client would; from other processes, so the
    measuring client does not share their interpreter), each pausing ``pause`` seconds between
    requests (0: as fast as the server refuses them). ``rounds`` alternations of an idle and a
    loaded measurement, each ``passes`` passes over the questions; the ratio is reported per
    round and over all rounds (p95 of all loaded samples / p95 of all idle samples), with the
    CPU the senders used and, given the server's ``pid``, the server's while they sent."""
    import resource

    times = [refusal_ms(url)[0] for _ in range(5)]
    status = refusal_ms(url)[1].decode(errors="replace")
    warm = ApiClient(url)
    for q in questions:  # untimed warm-up, as for the other paths
        warm.ask(q["question"], q.get("history", []))
    many = questions * passes
    idle_all: list[float] = []
    loaded_all: list[float] = []
    per_round, sent_total, flood_seconds, errors = [], 0, 0.0, 0
    for r in range(rounds):
        load_idle = os.getloadavg()[0]
        idle, _ = run("api", lambda: ApiClient(url), many, 1, len(many), None)
        stop = multiprocessing.Event()
        sent = multiprocessing.Value("i", 0)
        procs = [multiprocessing.Process(target=_send_oversized, args=(url, stop, sent, pause), daemon=True) for _ in range(senders)]
        usage, server_cpu, started = resource.getrusage(resource.RUSAGE_CHILDREN), process_tree_cpu(pid) if pid else 0.0, time.perf_counter()
        for proc in procs:
            proc.start()
        time.sleep(1.0)
        load_flood = os.getloadavg()[0]
        loaded, _ = run("api", lambda: ApiClient(url), many, 1, len(many), None)
        flood_refusals = [refusal_ms(url)[0] for _ in range(5)]  # a refusal while the senders keep going (paced)
        stop.set()
        for proc in procs:
            proc.join(timeout=60)
        flood_wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        senders_cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
        server_cpu = process_tree_cpu(pid) - server_cpu if pid else float("nan")
        p95_idle, p95_loaded = percentile(idle.latencies_ms, 95), percentile(loaded.latencies_ms, 95)
        per_round.append({
            "round": r + 1, "p95_idle_ms": round(p95_idle, 1), "p95_during_50mb_ms": round(p95_loaded, 1),
            "p95_ratio": round(p95_loaded / p95_idle, 2), "oversized_sent": sent.value, "oversized_seconds": round(loaded.seconds + 1.0, 1),
            "load_average_idle": round(load_idle, 2), "load_average_flood": round(load_flood, 2),
            "refusal_ms_during_flood_max": round(max(flood_refusals), 1),
            "senders_cores": round(senders_cpu / flood_wall, 2), "server_cores": round(server_cpu / flood_wall, 2),
        })
        idle_all += idle.latencies_ms
        loaded_all += loaded.latencies_ms
        sent_total += sent.value
        flood_seconds += loaded.seconds + 1.0
        errors += len(idle.errors) + len(loaded.errors)
    p95_idle, p95_loaded = percentile(idle_all, 95), percentile(loaded_all, 95)
    return {
        "refusal_status": status,
        "refusal_ms_max": round(max(times), 1),
        "refusal_ms": [round(t, 1) for t in times],
        "p95_idle_ms": round(p95_idle, 1),
        "p95_during_50mb_ms": round(p95_loaded, 1),
        "p95_ratio": round(p95_loaded / p95_idle, 2),
        "oversized_sent": sent_total,
        "oversized_seconds": round(flood_seconds, 1),
        "pause_s": pause,
        "rounds": per_round,
        "errors": errors,
    }


def start_server(workers: int = 1) -> tuple[subprocess.Popen, str]:
    """``python -m assistant serve`` on a free port with ``ASSISTANT_WORKERS=workers``; waits until healthy."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False"}
    env["ASSISTANT_WORKERS"] = str(workers)
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("the server did not become healthy within 300 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


WRK_SCRIPT = r"""
local bodies = {}
for line in io.lines(os.getenv("LOAD_BODIES")) do bodies[#bodies + 1] = line end
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function init(args) counter = tonumber(os.getenv("LOAD_FIRST") or "0") end
function request()
  counter = counter + 1
  return wrk.format(nil, "/api/ask", nil, bodies[counter % #bodies + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT %d %.6f %d %d %d %d %d %.3f %.3f %.3f\n", summary.requests, summary.duration / 1e6,
    e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""
"""wrk's Lua script: each connection POSTs the questions of ``$LOAD_BODIES`` (one JSON body a
line) to ``/api/ask`` in turn, and ``done`` prints one ``RESULT`` line: requests, seconds, the
error counts (non-2xx replies, connect, read, write, timeout) and p50 / p95 / p99 in ms."""


@dataclass
class WrkRun:
    """One run of wrk against ``/api/ask``: ``clients`` keep-alive connections for ``seconds``."""

    server: str
    clients: int
    requests: int
    seconds: float
    errors: dict[str, int]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    load_average: float
    client_cpu_s: float
    server_cpu_s: float

    @property
    def qps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def line(self) -> str:
        return (
            f"{self.server:10s} {self.clients:3d} clients {self.seconds:5.1f} s  {self.requests:5d} questions  errors "
            f"{self.error_count:3d}  p50 {self.p50_ms:7.1f} ms  p95 {self.p95_ms:7.1f} ms  p99 {self.p99_ms:7.1f} ms  "
            f"{self.qps:6.1f} questions/s  (server {self.server_cpu_s / self.seconds:.2f} cores, "
            f"{1000 * self.server_cpu_s / max(self.requests, 1):.1f} ms CPU/question, "
            f"wrk {1000 * self.client_cpu_s / max(self.requests, 1):.2f} ms/question; load average {self.load_average:.2f})"
        )

    def to_dict(self) -> dict:
        return {
            "server": self.server, "clients": self.clients, "questions": self.requests, "seconds": round(self.seconds, 2),
            "errors": self.error_count, "error_kinds": self.errors, "p50_ms": round(self.p50_ms, 1),
            "p95_ms": round(self.p95_ms, 1), "p99_ms": round(self.p99_ms, 1), "questions_per_s": round(self.qps, 2),
            "load_average_1min": self.load_average, "wrk_cpu_s": round(self.client_cpu_s, 2),
            "server_cpu_s": round(self.server_cpu_s, 2), "server_cores": round(self.server_cpu_s / self.seconds, 2),
        }


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its descendants (Linux ``/proc``)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def wrk_run(name: str, url: str, pid: int, clients: int, seconds: float, bodies: Path, script: Path, first: int = 0) -> WrkRun:
    """``clients`` connections of wrk (one thread, C and epoll: about 0.1 ms of CPU per request,
    so the clients take little from the server on a shared machine) for ``seconds``."""
    import resource

    load = os.getloadavg()[0]
    before, cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN), process_tree_cpu(pid)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "60s", "-s", str(script), url],
        env={**os.environ, "LOAD_BODIES": str(bodies), "LOAD_FIRST": str(first)},
        capture_output=True, text=True, check=True,
    ).stdout
    after, cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN), process_tree_cpu(pid)
    fields = next(line for line in out.splitlines() if line.startswith("RESULT ")).split()[1:]
    n, secs, status, connect, read, write, timeout = int(fields[0]), float(fields[1]), *map(int, fields[2:7])
    p50, p95, p99 = map(float, fields[7:10])
    errors = {k: v for k, v in zip(("status", "connect", "read", "write", "timeout"), (status, connect, read, write, timeout)) if v}
    client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return WrkRun(name, clients, n, secs, errors, p50, p95, p99, round(load, 2), client_cpu, cpu1 - cpu0)


def same_answers(url: str, questions: list[dict], expected: dict[str, str] | None) -> tuple[dict[str, str], list[str]]:
    """Ask every question once through ``/api/ask`` (one client, httpx); the answers by id, and
    the ids whose answer differs from ``expected`` (another server's) or that failed."""
    client, got, bad = ApiClient(url), {}, []
    for q in questions:
        try:
            got[q["id"]] = comparable(client.ask(q["question"], q.get("history", [])))
        except Exception as err:  # counted, never fatal
            bad.append(f"{q['id']}: {type(err).__name__}: {str(err)[:120]}")
            continue
        if expected is not None and expected.get(q["id"]) != got[q["id"]]:
            bad.append(f"{q['id']}: the answer differs from the one-process server's")
    return got, bad


def compare_workers(
    workers: int, clients: list[int], questions: list[dict], rounds: int = 2, seconds: dict[int, float] | None = None
) -> list[dict]:
    """``/api/ask`` of a one-process server against a server with ``workers`` answering
    processes (``ASSISTANT_WORKERS``), both started at once and loaded in turn by wrk: per
    round, each server at each count of ``clients`` for ``seconds[clients]`` (default 10 s, 60 s
    at 64 clients); the order of the servers alternates between rounds (ABBA), since the machine
    is shared. Before the rounds, both servers answer every question once and the answers must
    be equal (a process that answers differently is an error). Prints each run and the
    throughput ratio (workers / one process) per round and client count."""
    import shutil
    import tempfile

    if not shutil.which("wrk"):
        raise SystemExit("--workers needs wrk (Debian: apt-get install wrk), the load generator that costs the server's cores least")
    seconds = {**{c: 10.0 for c in clients}, 64: 60.0, **(seconds or {})}
    tmp = Path(tempfile.mkdtemp(prefix="load-"))
    bodies, script = tmp / "bodies.jsonl", tmp / "ask.lua"
    bodies.write_text("".join(json.dumps({"question": q["question"], "history": q.get("history", [])}) + "\n" for q in questions))
    script.write_text(WRK_SCRIPT)
    names = {1: "1 process", workers: f"{workers} workers"}
    servers = {n: start_server(n) for n in (1, workers)}
    out: list[dict] = []
    try:
        expected, bad = same_answers(servers[1][1], questions, None)
        _, bad_many = same_answers(servers[workers][1], questions, expected)
        for n, (proc, url) in servers.items():  # warm: every worker answers some questions
            wrk_run(names[n], url, proc.pid, 8, 5.0, bodies, script)
        print(f"answers: {len(expected)} questions, {len(bad) + len(bad_many)} errors or differences between the servers")
        out.append({"check": "same answers", "questions": len(expected), "errors": len(bad) + len(bad_many), "samples": (bad + bad_many)[:5]})
        for r in range(rounds):
            order = (1, workers) if r % 2 == 0 else (workers, 1)
            by: dict[int, dict[int, WrkRun]] = {}
            for c in clients:
                for n in order:
                    proc, url = servers[n]
                    run_ = wrk_run(names[n], url, proc.pid, c, seconds[c], bodies, script, first=c * 7)
                    by.setdefault(n, {})[c] = run_
                    print(f"round {r + 1}  {run_.line()}", flush=True)
                    out.append({"round": r + 1, "workers": n, **run_.to_dict()})
            for c in clients:
                one, many = by[1][c], by[workers][c]
                ratio = many.qps / one.qps if one.qps else float("nan")
                print(f"round {r + 1}  {c:3d} clients: {workers} workers / 1 process: questions/s x{ratio:.2f}", flush=True)
                out.append({"round": r + 1, "clients": c, "ratio": round(ratio, 3)})
    finally:
        for proc, _ in servers.values():
            stop_server(proc)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (count)")
    parser.add_argument("--questions", type=int, default=20, help="questions per client (count)")
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument(
        "--paths", default="api,gradio,gradio-http", help="comma-separated: api, gradio, gradio-http (default all)"
    )
    parser.add_argument("--report", type=Path, help="write the numbers as JSON here")
    parser.add_argument(
        "--oversized", action="store_true", help="also measure the 50 MB request floors (refusal time, p95 under 4 senders)"
    )
    parser.add_argument(
        "--workers", type=int, default=0,
        help="compare /api/ask on a one-process server with one of this many answering processes, at 1, 16 and 64 clients",
    )
    parser.add_argument("--rounds", type=int, default=2, help="with --workers: rounds, alternating the servers' order; with --oversized: idle / loaded alternations")
    parser.add_argument("--seconds", type=float, default=10, help="with --workers: seconds of each run at 1 and 16 clients")
    parser.add_argument("--seconds-64", type=float, default=60, help="with --workers: seconds of each run at 64 clients")
    parser.add_argument(
        "--oversized-pause", type=float, default=0.25, help="seconds each 50 MB sender waits between requests (0: flood)"
    )
    args = parser.parse_args()

    questions = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.workers > 1:
        seconds = {1: args.seconds, 16: args.seconds, 64: args.seconds_64}
        report = compare_workers(args.workers, [1, 16, 64], questions, args.rounds, seconds)
        if args.report:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            args.report.write_text(json.dumps(report, indent=1), encoding="utf-8")
        raise SystemExit(1 if any(r.get("errors") for r in report) else 0)
    proc, url = (None, args.url.rstrip("/")) if args.url else start_server()
    report = []
    try:
        if args.oversized:
            o = oversized(url, questions, pause=args.oversized_pause, rounds=args.rounds, pid=proc.pid if proc else None)
            for rr in o["rounds"]:
                print(
                    f"oversized   round {rr['round']}: p95 {rr['p95_idle_ms']:.1f} ms idle (load average {rr['load_average_idle']:.2f}), "
                    f"{rr['p95_during_50mb_ms']:.1f} ms during 4 senders (load average {rr['load_average_flood']:.2f}): "
                    f"x{rr['p95_ratio']:.2f}, {rr['oversized_sent']} sent in {rr['oversized_seconds']} s; a 50 MB body "
                    f"refused in at most {rr['refusal_ms_during_flood_max']:.1f} ms meanwhile; cores used by the senders "
                    f"{rr['senders_cores']:.2f}, by the server {rr['server_cores']:.2f} (answering the questions too)"
                )
            print(
                f"oversized   50 MB body: {o['refusal_status']} in at most {o['refusal_ms_max']:.1f} ms; p95 of normal "
                f"questions {o['p95_idle_ms']:.1f} ms idle, {o['p95_during_50mb_ms']:.1f} ms during 4 senders of 50 MB "
                f"(x{o['p95_ratio']:.2f} over all rounds, {o['oversized_sent']} sent in {o['oversized_seconds']} s), errors {o['errors']}"
            )
            report.append({"path": "oversized", **o})
        makers = {
            "api": lambda: ApiClient(url),
            "gradio": lambda: GradioClient(url),
            "gradio-http": lambda: GradioHttpClient(url),
        }
        for path in filter(None, (p.strip() for p in args.paths.split(","))):
            make = makers[path.strip()]
            warm = make()
            for q in questions:  # warm-up: the first question of each length pays for kernel set-up
                warm.ask(q["question"], q.get("history", []))
            base, expected = run(path, make, questions, 1, len(questions), None)
            load, _ = run(path, make, questions, args.clients, args.questions, expected)
            print(base.line())
            print(load.line())
            print(
                f"{path:11s} ratio {args.clients} clients / 1 client: questions/s x{load.qps / base.qps:.2f}, "
                f"p50 latency x{percentile(load.latencies_ms, 50) / percentile(base.latencies_ms, 50):.2f}"
            )
            for e in load.errors[:5]:
                print(f"        error: {e}")
            report += [base.to_dict(), load.to_dict()]
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=1), encoding="utf-8")
    if any(r["errors"] for r in report):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
