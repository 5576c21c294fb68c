"""The wheel installs: ``pip wheel .`` holds every subpackage and the models' and the widget's files,
and the project installed from it (no ``-e``) into a fresh virtual environment indexes a PDF and a
DOCX, answers from them and serves ``/embed.js`` and ``/widget/``.

The virtual environment is made with ``--system-site-packages`` so the dependencies already
installed are reused (nothing is downloaded); the project itself comes from the wheel, and the test
checks that ``index.readers`` and the models resolve inside the venv's ``site-packages`` and not
to a source tree. Everything runs from a folder outside the checkout, with ``PYTHONPATH`` unset.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from conftest import free_port, stop_process, wait_for_http

pytestmark = [pytest.mark.integration, pytest.mark.wheel]

ROOT = Path(__file__).resolve().parent.parent
FACT_PDF = "The Harbour Authority moved the annual regatta to the third Sunday of August."
FACT_DOCX = "Ingrid Solberg chairs the marina safety committee since 2019."
PACKAGED = ("index/readers/pdf.py", "index/readers/docx.py", "ui/embed/example.html", "assistant/models/support/config.json",
            "assistant/models/answerability/config.json", "assistant/models/reader/reader-int8.onnx", "assistant/models/reader/config.json",
            "assistant/models/reader/MODEL_CARD.md")
"""Files the wheel must hold; besides them, every file under assistant/models/ and ui/embed/."""


def _run(cmd: list, cwd: Path, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from this checkout without build isolation (offline: the
    installed setuptools builds it)."""
    out = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out, ROOT], cwd=out, env=env)
    (found,) = out.glob("cited_assistant-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> tuple[Path, dict]:
    """A fresh venv with the wheel installed (``--no-deps``, no index); ``(bin folder, environment)``."""
    home = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--system-site-packages", home / "env"], cwd=home, env=os.environ.copy())
    bin_dir = home / "env" / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(home / "env"), PIP_DISABLE_PIP_VERSION_CHECK="1",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False", GRADIO_ANALYTICS_ENABLED="False",
               ASSISTANT_DATA_DIR=str(home / "data"))
    _run([bin_dir / "python", "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], cwd=home, env=env)
    return bin_dir, env


def test_the_wheel_holds_every_subpackage_and_the_data_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {p.relative_to(ROOT).as_posix() for pkg in ("assistant", "index", "ui") for p in (ROOT / pkg).rglob("*.py")}
    assert sources - names == set(), "modules missing from the wheel"
    data = {p.relative_to(ROOT).as_posix() for folder in ("assistant/models", "ui/embed") for p in (ROOT / folder).rglob("*") if p.is_file()}
    assert [p for p in sorted({*PACKAGED, *data}) if p not in names] == []
    assert not any(n.startswith(("tests/", "benchmarks/", "seeds/")) for n in names)


def test_the_installed_wheel_indexes_answers_and_serves(venv, tmp_path):
    bin_dir, env = venv
    python, assistant = bin_dir / "python", bin_dir / "assistant"
    where = _run([python, "-c", "import index.readers, ui, assistant.answering.reader as r, assistant.answering.support as s, assistant.answering.answerability as a; "
                  "print(index.readers.__file__); print(ui.__file__); print(all(p.exists() for p in (r.READER_DIR, s.MODEL_PATH, a.MODEL_PATH)))"],
                 cwd=tmp_path, env=env).stdout.split()
    site = str(bin_dir.parent / "lib")
    assert where[0].startswith(site) and where[1].startswith(site), f"not imported from the venv: {where}"
    assert where[2] == "True", "a packaged model file is missing from the install"

    import docx

    from pdfmaker import make_pdf

    docs = tmp_path / "docs"
    docs.mkdir()
    make_pdf(docs / "regatta.pdf", [[("Harbour notices", 72, 780, 16), (FACT_PDF, 72, 740, 11)]])
    d = docx.Document()
    d.add_heading("Marina committees", level=1)
    d.add_paragraph(FACT_DOCX)
    d.save(str(docs / "committees.docx"))

    indexed = _run([assistant, "index", docs, "--quiet", "--strict"], cwd=tmp_path, env=env)
    assert "2 documents" in indexed.stdout + indexed.stderr
    answer = _run([assistant, "ask", "When is the annual regatta?"], cwd=tmp_path, env=env).stdout
    assert "third Sunday of August" in answer and "regatta.pdf" in answer
    answer = _run([assistant, "ask", "Who chairs the marina safety committee?"], cwd=tmp_path, env=env).stdout
    assert "Ingrid Solberg" in answer and "committees.docx" in answer

    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([str(assistant), "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        why = wait_for_http(f"{base}/healthz", server, 120, interval=0.5)
        assert why is None, f"`assistant serve` did not answer /healthz ({why}): {(tmp_path / 'serve.log').read_text()[-2000:]}"
        with urllib.request.urlopen(f"{base}/embed.js", timeout=30) as r:
            assert r.status == 200 and "iframe" in r.read().decode()
        with urllib.request.urlopen(f"{base}/widget/", timeout=30) as r:
            assert r.status == 200 and "<html" in r.read().decode().lower()
    finally:
        stop_process(server)
        log.close()
