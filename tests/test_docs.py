"""The README and docs/ stay true to the code: the configuration page is what the settings'
own descriptions generate now, every relative link (and #anchor) points at something that
exists, and the README's test command is the one CI runs. No model, store or server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

from assistant.settings import doc as settings_doc  # noqa: E402
from assistant.settings.groups import RetrievalSettings  # noqa: E402
from assistant.settings import GROUPS, variables  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "RESULTS.md"]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def test_the_configuration_page_is_what_the_settings_generate():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == settings_doc.render(), "docs/configuration.md is stale: run python -m assistant.settings.doc"
    for group, model in GROUPS.items():
        for name in model.model_fields:
            row = next((line for line in page.splitlines() if line.startswith(f"| `{group}.{name}` |")), None)
            assert row is not None, f"{group}.{name} has no row"
            assert all(f"`{variable}`" in row for variable in variables(group, name)), row


def test_the_page_follows_a_changed_description(monkeypatch):
    before = settings_doc.render()
    changed = "Passages the retriever returns (count; changed)."
    monkeypatch.setattr(RetrievalSettings.model_fields["top_k"], "description", changed)
    after = settings_doc.render()
    assert after != before and changed in after


def test_the_generator_writes_and_checks_the_page(tmp_path, monkeypatch, capsys):
    page = tmp_path / "configuration.md"
    page.write_text("# stale\n", encoding="utf-8")
    monkeypatch.setattr(settings_doc, "PAGE", page)
    assert settings_doc.main(["--check"]) == 1
    assert "is not current: run python -m assistant.settings.doc" in capsys.readouterr().err
    assert settings_doc.main([]) == 0 and page.read_text(encoding="utf-8") == settings_doc.render()
    assert settings_doc.main(["--check"]) == 0


def test_the_check_command_passes_on_the_committed_page():
    done = subprocess.run([sys.executable, "-m", "assistant.settings.doc", "--check"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(ROOT)})
    assert done.returncode == 0, done.stderr


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown page: lower case, punctuation dropped, spaces as -."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    headings = re.findall(r"^#{1,6} +(.+?) *$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    links = LINK.findall(text)
    broken = []
    for target in links:
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not checked offline
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(target)
    assert broken == [], f"{page.name}: {broken}"


def test_the_readme_links_every_docs_page_and_shows_its_screenshot():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = set(LINK.findall(readme))
    assert {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")} <= targets
    assert "docs/images/chat.png" in targets


def test_ci_runs_the_readmes_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"# 2\. Run the tests\n(.+)\n", readme).group(1).strip()
    assert command == "pip install torch==2.13.0 -e '.[test]' && pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").replace("--quiet ", "")
    assert command in ci.splitlines()
