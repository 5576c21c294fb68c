"""One retrieval and re-indexing contract, run against both stores: the embedded
PersistentClient and a real `chroma run` server (ASSISTANT_CHROMA_URL)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from assistant.core import Assistant
from assistant.settings import Settings
from index import ChromaStore, build_index, writer_for

DOCS = {
    "harbour.txt": "The Harbour Report\n\nThe old harbour reopened in March after a two-year repair.\n"
    "Its new sea wall is 400 metres long and was built by Kestrel Marine.\n",
    "orchard.md": "# Orchard notes\n\nThe apple orchard on Fenwick Hill has 312 trees.\n"
    "Most of them are a russet variety planted by Agnes Moor in 1962.\n",
    "library.txt": "Library hours\n\nThe village library opens at nine on weekdays.\n"
    "On Saturdays it closes at one in the afternoon.\n",
}


@pytest.fixture(params=["embedded", "server"])
def store_settings(request, tmp_path):
    """Settings pointing at an empty store of each kind (the server is emptied for each test)."""
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        store = ChromaStore(url=url)
        for col in store.client.list_collections():
            store.client.delete_collection(col.name if hasattr(col, "name") else str(col))
        return Settings(data_dir=tmp_path / "data", chroma_url=url, index_check_seconds=0)
    return Settings(data_dir=tmp_path / "data", index_check_seconds=0)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def _assistant(settings, embedder) -> Assistant:

    return Assistant(settings, settings.open_store(), embedder)


def test_answers_cite_exact_spans_and_name_the_document(store_settings, folder, embedder):
    a = _assistant(store_settings, embedder)
    report = a.index([folder], progress=False)
    assert report.rebuilt and report.added == tuple(sorted(DOCS)) and report.embedded_passages == report.build.n_passages
    answer = a.ask("Who built the new sea wall?")
    assert not answer.abstained and "Kestrel Marine" in answer.text
    cite = answer.citations[0]
    assert cite.passage.doc_id == "harbour.txt" and cite.passage.title == "The Harbour Report"
    stored = {d.doc_id: d for d in a.documents()}
    assert stored["harbour.txt"].text[cite.passage.start : cite.passage.end] == cite.passage.text
    d = cite.to_dict()
    assert d["doc_id"] == "harbour.txt" and d["title"] == "The Harbour Report"


def test_reindex_skips_unchanged_replaces_changed_and_prunes_deleted(store_settings, folder, embedder):
    a = _assistant(store_settings, embedder)
    first = a.index([folder], progress=False)
    before = {r.doc_id: r for r in a.catalog()}
    vectors_before = _passage_vectors(a.store, "orchard.md")

    again = a.index([folder], progress=False)
    assert not again.rebuilt and again.build.build_id == first.build.build_id

    time.sleep(0.01)
    (folder / "library.txt").write_text("Library hours\n\nThe village library now opens at ten on weekdays.\n", encoding="utf-8")
    (folder / "garden.txt").write_text("Garden club\n\nThe garden club meets on the first Tuesday of each month.\n", encoding="utf-8")
    changed = a.index([folder], progress=False)
    assert changed.rebuilt and changed.changed == ("library.txt",) and changed.added == ("garden.txt",)
    assert set(changed.unchanged) == {"harbour.txt", "orchard.md"}
    assert changed.embedded_passages == 2  # only the changed and the new document ran through the model
    after = {r.doc_id: r for r in a.catalog()}
    assert after["orchard.md"].indexed_at == before["orchard.md"].indexed_at  # copied, not re-embedded
    assert after["library.txt"].indexed_at > before["library.txt"].indexed_at
    np.testing.assert_allclose(_passage_vectors(a.store, "orchard.md"), vectors_before, atol=1e-6)  # copied (Chroma may re-round)
    texts = [p.text for p in a.store.passages() if p.doc_id == "library.txt"]
    assert texts and all("nine" not in t and "Saturdays" not in t for t in texts)  # the old passages are gone
    assert any("now opens at ten" in t for t in texts)
    answer = a.ask("When does the library open on weekdays?")
    assert "now opens at ten" in (answer.citations or answer.related)[0].passage.text

    (folder / "orchard.md").unlink()
    kept = a.index([folder], progress=False)
    assert not kept.rebuilt and kept.missing == ("orchard.md",) and "--prune" in kept.describe()
    pruned = a.index([folder], prune=True, progress=False)
    assert pruned.removed == ("orchard.md",)
    assert [r.doc_id for r in a.catalog()] == ["garden.txt", "harbour.txt", "library.txt"]
    assert all(p.doc_id != "orchard.md" for p in a.store.passages())


def test_other_paths_are_added_not_replaced(store_settings, folder, tmp_path, embedder):
    a = _assistant(store_settings, embedder)
    a.index([folder], progress=False)
    extra = tmp_path / "notes.txt"
    extra.write_text("Field notes\n\nThe heron nests by the mill pond every spring.\n", encoding="utf-8")
    report = a.index([extra], progress=False)
    assert report.added == ("notes.txt",) and len(report.build.documents) == len(DOCS) + 1
    assert a.ask("Where does the heron nest?").citations[0].passage.doc_id == "notes.txt"


def test_a_partial_build_is_never_served(store_settings, folder, embedder):
    a = _assistant(store_settings, embedder)
    good = a.index([folder], progress=False).build
    # A writer that dies after writing some records: it never commits.
    from dataclasses import replace

    partial = writer_for(a.store).begin_build(replace(good, build_id=f"{good.build_id[:-6]}dead00", built_at=time.time()))
    p = a.store.passages()[0]
    partial.add_passages([p], np.ones((1, 384), dtype=np.float32) / np.sqrt(384), np.ones((len(p.sentences), 384), dtype=np.float32) / np.sqrt(384))
    fresh = _assistant(store_settings, embedder)
    assert fresh.store.active_build().build_id == good.build_id
    assert "Kestrel Marine" in fresh.ask("Who built the new sea wall?").text
    assert any(not done for _, done in fresh.store.builds())
    (folder / "garden.txt").write_text("Garden club\n\nThe garden club meets on Tuesdays.\n", encoding="utf-8")
    fresh.index([folder], progress=False)
    assert all(done for _, done in fresh.store.builds())  # the dead build was cleaned up


def test_a_running_assistant_switches_to_a_new_build(store_settings, folder, tmp_path, embedder):
    serving = _assistant(store_settings, embedder)
    serving.index([folder], progress=False)
    old_build = serving.build.build_id
    assert all(c.passage.doc_id != "notes.txt" for c in serving.ask("Where does the heron nest?").citations)
    # Another indexer (its own store object and client) adds a document.
    other = tmp_path / "more"
    other.mkdir()
    (other / "notes.txt").write_text("Field notes\n\nThe heron nests by the mill pond every spring.\n", encoding="utf-8")
    writer_settings = store_settings.model_copy()

    build_index([other], writer_settings.open_store(), embedder, progress=False)
    answer = serving.ask("Where does the heron nest?")
    assert serving.build.build_id != old_build
    assert not answer.abstained and answer.citations[0].passage.doc_id == "notes.txt"


def _passage_vectors(store: ChromaStore, doc_id: str) -> np.ndarray:
    ids = sorted(p.passage_id for p in store.passages() if p.doc_id == doc_id)
    res = store.handles.passages.get(ids=ids, include=["embeddings"])
    order = np.argsort(res["ids"])
    return np.asarray(res["embeddings"])[order]


def test_server_url_setting_selects_the_http_client(chroma_server, monkeypatch):

    monkeypatch.setenv("ASSISTANT_CHROMA_URL", chroma_server)
    store = Settings().open_store()
    assert store.url == chroma_server and store.path is None
    assert store.client.get_settings().chroma_api_impl == "chromadb.api.fastapi.FastAPI"  # what HttpClient uses
    assert store.client.heartbeat() > 0
