"""Many documents: HTML, duplicate paragraphs, ids and the `assistant docs` / `index` commands."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ui.cli import app
from assistant.core import Assistant
from assistant.settings import Settings
from index import ChunkingConfig, chunk_document
from index.loader import discover, load_document

runner = CliRunner()

PAGE = """<!doctype html><html><head><title>Tide tables  of
 Porthcawl</title><style>p { color: red }</style><script>var secret = "do not index";</script></head>
<body><nav><a href="/">Home</a></nav><h1>Tides</h1>
<p>High tide at Porthcawl on Monday is at <b>06:42</b>, and low tide at 12:55.</p>
<ul><li>Spring tides follow the full moon.</li><li>Neap tides follow the half moon.</li></ul>
</body></html>"""


def test_html_is_reduced_to_text_and_citations_index_the_stored_text(tmp_path, embedder):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "tides.html").write_text(PAGE, encoding="utf-8")
    doc = load_document(tmp_path / "docs" / "tides.html", "tides.html")
    assert doc.title == "Tide tables of Porthcawl"
    assert "High tide at Porthcawl on Monday is at 06:42" in doc.text
    assert "<" not in doc.text and "secret" not in doc.text and "color" not in doc.text
    settings = Settings(data_dir=tmp_path / "data")
    a = Assistant(settings, settings.open_store(), embedder)
    a.index([tmp_path / "docs"], progress=False)
    answer = a.ask("What time is high tide at Porthcawl on Monday?")
    cite = answer.citations[0]
    stored = {d.doc_id: d for d in a.documents()}["tides.html"]
    assert stored.text == doc.text
    assert stored.text[cite.passage.start : cite.passage.end] == cite.passage.text and "06:42" in cite.passage.text
    assert cite.passage.line_start == stored.text.count("\n", 0, cite.passage.start) + 1
    assert cite.to_dict()["title"] == "Tide tables of Porthcawl"


def test_a_repeated_paragraph_gets_two_ids_with_their_own_offsets(tmp_path, embedder):
    para = "The committee approved the budget for the new footbridge after a long and rather heated debate."
    assert len("Minutes\n\n" + para) > 100  # so the title is not packed with it
    text = f"Minutes\n\n{para}\n\nOther business was postponed to the next meeting.\n\n{para}\n"
    (tmp_path / "minutes.txt").write_text(text, encoding="utf-8")
    doc = load_document(tmp_path / "minutes.txt")
    same = [p for p in chunk_document(doc, ChunkingConfig(max_chars=100), embedder.count_tokens) if p.text == para]
    assert len(same) == 2 and same[0].passage_id != same[1].passage_id
    assert [p.start for p in same] == [text.index(para), text.rindex(para)]
    assert [p.line_start for p in same] == [3, 7]
    settings = Settings(data_dir=tmp_path / "data", chunk_max_chars=100)
    a = Assistant(settings, settings.open_store(), embedder)
    a.index([tmp_path / "minutes.txt"], progress=False)
    stored = [p for p in a.store.passages() if p.text == para]
    assert sorted(p.start for p in stored) == [p.start for p in same]


def test_ids_are_relative_paths_and_clashing_ids_are_refused(tmp_path, embedder):
    for sub in ("a", "b"):
        (tmp_path / sub / "notes").mkdir(parents=True)
        (tmp_path / sub / "notes" / "readme.md").write_text(f"# Readme {sub}\n\nFolder {sub} holds the {sub} notes.\n")
    assert [i for i, _ in discover([tmp_path])] == ["a/notes/readme.md", "b/notes/readme.md"]
    settings = Settings(data_dir=tmp_path / "data")
    a = Assistant(settings, settings.open_store(), embedder)
    a.index([tmp_path / "a"], progress=False)
    from index import DocumentsError
    import pytest

    with pytest.raises(DocumentsError, match="would both be document 'notes/readme.md'"):
        a.index([tmp_path / "b"], progress=False)


def test_docs_lists_documents_passages_and_indexed_at(assistant):
    result = runner.invoke(app, ["docs"])
    assert result.exit_code == 0, result.output
    assert "japan-us-reset" in result.stdout and "indexed at" in result.stdout
    assert f"1 document, {assistant.build.n_passages} passages" in result.stdout
    rows = json.loads(runner.invoke(app, ["docs", "--json"]).stdout)
    assert rows[0]["doc_id"] == "japan-us-reset.txt"
    assert rows[0]["n_passages"] == assistant.build.n_passages and rows[0]["indexed_at"] > 0
    assert rows[0]["title"].startswith("Japan faces")


def test_docs_without_an_index_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "empty"))
    result = runner.invoke(app, ["docs"])
    assert result.exit_code == 1 and "run `assistant index`" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_index_command_adds_and_prunes(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "one.txt").write_text("One\n\nThe first note is about owls.\n")
    (folder / "two.md").write_text("# Two\n\nThe second note is about otters.\n")
    first = runner.invoke(app, ["index", str(folder), "-q"])
    assert first.exit_code == 0 and "2 documents" in first.stdout
    (folder / "two.md").unlink()
    kept = runner.invoke(app, ["index", str(folder), "-q"])
    assert "up to date" in kept.stdout and "--prune" in kept.stdout
    pruned = runner.invoke(app, ["index", str(folder), "--prune", "-q"])
    assert pruned.exit_code == 0 and "1 removed" in pruned.stdout and "1 document," in pruned.stdout


def test_default_documents_are_not_added_to_a_users_index(tmp_path, embedder):
    """A user indexes their own folder; a later start (ensure_index) or a bare `index` keeps the
    index to their documents instead of adding the shipped seeds."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("Notes\n\nThe cafeteria opens at 8 am.\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    a = Assistant(settings, settings.open_store(), embedder)
    a.index([tmp_path / "docs"], progress=False)
    assert a.index(progress=False).rebuilt is False  # no paths: re-check what is indexed
    restarted = Assistant.from_settings(Settings(data_dir=tmp_path / "data"), progress=False)
    assert [d.doc_id for d in restarted.documents()] == ["notes.txt"]


def test_a_link_out_of_the_folder_is_skipped_and_named_unless_following_is_set(tmp_path):
    from index.loader import load_all

    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "policy.txt").write_text("Policy\n\nLeave is 20 days a year.\n", encoding="utf-8")
    (docs / "passwd-link.txt").symlink_to(secret)
    (docs / "sub" / "policy-again.txt").symlink_to(docs / "policy.txt")  # a link that stays inside is indexed
    documents, skipped = load_all([docs])
    assert [d.doc_id for d in documents] == ["policy.txt", "sub/policy-again.txt"]
    (skip,) = skipped
    assert skip.doc_id == "passwd-link.txt" and skip.reason == "link outside the folder"
    assert str(secret) in skip.message and "ASSISTANT_FOLLOW_SYMLINKS" in skip.message
    followed, _ = load_all([docs], follow_links=True)
    assert "passwd-link.txt" in [d.doc_id for d in followed]
    assert [i for i, _ in discover([docs])] == ["policy.txt", "sub/policy-again.txt"]


def test_the_index_command_names_a_skipped_link(tmp_path, monkeypatch):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "policy.txt").write_text("Policy\n\nLeave is 20 days a year.\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("Secret\n\nThe vault code is 1234.\n", encoding="utf-8")
    (tmp_path / "docs" / "secret-link.txt").symlink_to(tmp_path / "secret.txt")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    result = runner.invoke(app, ["index", str(tmp_path / "docs"), "-q"])
    assert result.exit_code == 0 and "secret-link.txt" in result.output and "outside" in result.output, result.output
    listed = runner.invoke(app, ["docs", "--json"])
    assert [d["doc_id"] for d in json.loads(listed.stdout)] == ["policy.txt"]
