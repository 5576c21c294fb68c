"""Nothing leaves the machine: `assistant ask` and `assistant serve` (real processes, under
strace, inside a fresh network namespace when one can be made) try to connect to nothing but
loopback and local sockets, and no library writes telemetry files into the user's home.

The traces prove themselves: each must hold the interpreter's own ``execve`` (strace followed the
process from its start), and the server's trace the ``accept`` of the probe's connections (strace
saw its network calls). ``assistant ask`` itself may make no network call at all, so an empty list
of connects is no evidence that tracing worked (the check this replaces failed once for that)."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
TELEMETRY_VARIABLES = ("ORT_DISABLE_TELEMETRY", "ANONYMIZED_TELEMETRY", "GRADIO_ANALYTICS_ENABLED", "HF_HUB_OFFLINE",
                       "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "DO_NOT_TRACK")

PROBE = """
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
deadline = time.monotonic() + 240
while True:
    try:
        urllib.request.urlopen(base + "/healthz", timeout=2).read()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("the server did not come up")
        time.sleep(0.5)
req = urllib.request.Request(base + "/api/ask", data=json.dumps({"question": "Who is Yuki Tatsumi?"}).encode(),
                             headers={"Content-Type": "application/json"})
print(json.loads(urllib.request.urlopen(req, timeout=60).read())["abstained"])
urllib.request.urlopen(base + "/", timeout=30).read()  # the chat page too
time.sleep(5)  # background uploaders start after a few seconds
"""


def _isolated(script: str) -> list[str]:
    """bash running ``script`` in a new network namespace (only loopback) if we may make one."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0 and shutil.which("ip"):
        return [unshare, "-n", "bash", "-c", "ip link set lo up && " + script]
    return ["bash", "-c", script]


def _remote_attempts(log: str) -> list[str]:
    """strace lines that connect or send to an address other than loopback (AF_UNIX and netlink are local)."""
    bad = []
    for line in log.splitlines():
        if not re.search(r"\b(connect|sendto|sendmsg)\(", line):
            continue
        for addr in re.findall(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"', line):
            ip = ipaddress.ip_address(next(a for a in addr if a))
            mapped = getattr(ip, "ipv4_mapped", None)
            if not (ip.is_loopback or (mapped and mapped.is_loopback)):
                bad.append(line.strip())
    return bad


def test_ask_and_serve_reach_only_loopback_and_write_no_telemetry(tmp_path):
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed (Debian package strace; .ci/run installs it)")
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_") and k not in TELEMETRY_VARIABLES}
    env.update({"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "ASSISTANT_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)})
    (tmp_path / "probe.py").write_text(PROBE, encoding="utf-8")
    trace = f"{strace} -f -qq -e trace=execve,connect,sendto,sendmsg,accept,accept4 -e signal=none"
    py, port = sys.executable, free_port()
    script = textwrap.dedent(f"""
        set -e
        cd {ROOT}
        {trace} -o {tmp_path}/ask.log {py} -m assistant ask "Who is Yuki Tatsumi?" --json > {tmp_path}/ask.json 2> {tmp_path}/ask.err
        {trace} -o {tmp_path}/serve.log {py} -m assistant serve --port {port} > {tmp_path}/serve.out 2>&1 &
        tracer=$!
        status=0
        {py} {tmp_path}/probe.py {port} > {tmp_path}/probe.out 2>&1 || status=$?
        server=$(pgrep -P $tracer || true)
        [ -n "$server" ] && kill -TERM $server
        wait $tracer || true
        exit $status
    """)
    run = subprocess.run(_isolated(script), env=env, capture_output=True, text=True, timeout=600)
    files = {p.name: p for p in tmp_path.iterdir() if p.is_file()}
    assert run.returncode == 0, (run.stderr, files["ask.err"].read_text()[-2000:], files.get("probe.out") and files["probe.out"].read_text(),
                                 (tmp_path / "serve.out").read_text()[-2000:])
    assert '"abstained": false' in files["ask.json"].read_text()
    assert files["probe.out"].read_text().strip() == "False"
    for name in ("ask.log", "serve.log"):
        log = files[name].read_text()
        assert re.search(rf'^\d+\s+execve\("{re.escape(py)}", ', log, re.M), f"{name}: strace did not trace the process from its start"
        assert _remote_attempts(log) == [], f"{name}: attempts to leave the machine"
    accepted = re.findall(r"^\d+\s+accept4?\(", files["serve.log"].read_text(), re.M)
    assert accepted, "serve.log: strace recorded none of the server's accepts of the probe's connections"
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())
    assert not [p for p in written if "Microsoft" in p or "onnxruntime" in p or "huggingface" in p], written
