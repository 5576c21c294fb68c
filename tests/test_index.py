"""Indexing into a real Chroma store with the real model."""

from __future__ import annotations

import pytest

from index import ChromaStore, ChunkingConfig, DocumentsError, build_index
from index.records import BuildInfo


def test_indexing_twice_gives_identical_ids_and_counts(assistant, settings):
    store = assistant.store
    first = store.active_build()
    ids_before = sorted(p.passage_id for p in store.passages())
    report = assistant.index()
    assert not report.rebuilt and report.reason == "up to date"
    assert report.build.build_id == first.build_id
    fresh = settings.open_store()
    fresh.open()
    assert sorted(p.passage_id for p in fresh.passages()) == ids_before
    assert len(ids_before) == first.n_passages == len(set(ids_before))


def test_store_records_model_chunking_and_documents(assistant):
    info: BuildInfo = assistant.store.active_build()
    assert info.model.startswith("sentence-transformers/all-MiniLM-L6-v2")
    assert info.model == assistant.embedder.name
    assert info.dimension == 384
    assert info.chunking["max_chars"] == assistant.settings.index.chunk_max_chars
    assert list(info.documents) == ["japan-us-reset.txt"]
    col = assistant.store.handles.passages
    assert col.configuration["hnsw"]["space"] == "cosine"


def test_other_chunking_triggers_a_rebuild_with_reason(tmp_path, assistant, settings):
    store = ChromaStore(path=tmp_path / "chroma")
    first = build_index(settings.index.documents, store, assistant.embedder, ChunkingConfig(), progress=False)
    assert first.rebuilt and first.reason == "no index yet"
    second = build_index(settings.index.documents, store, assistant.embedder, ChunkingConfig(max_chars=300), progress=False)
    assert second.rebuilt and "max_chars" in second.reason
    assert store.active_build().build_id == second.build.build_id
    assert len(store.builds()) == 2  # the previous build is kept for readers mid-switch


def test_changed_document_triggers_a_rebuild(tmp_path, assistant):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Alpha\nThe alpha project started in 2020.", encoding="utf-8")
    store = ChromaStore(path=tmp_path / "chroma")
    build_index([folder], store, assistant.embedder, progress=False)
    (folder / "a.txt").write_text("Alpha\nThe alpha project started in 2021.", encoding="utf-8")
    report = build_index([folder], store, assistant.embedder, progress=False)
    assert report.rebuilt and "1 changed" in report.reason


def test_missing_or_empty_documents_folder(tmp_path, assistant):
    store = ChromaStore(path=tmp_path / "chroma")
    with pytest.raises(DocumentsError, match="does not exist"):
        build_index([tmp_path / "nope"], store, assistant.embedder, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DocumentsError, match="No .* documents found"):
        build_index([tmp_path / "empty"], store, assistant.embedder, progress=False)


def test_the_embedding_bar_starts_after_the_model_is_loaded(tmp_path, monkeypatch):
    """The bar's rate (passages/s) and ETA count embedding only: a model not loaded yet is
    loaded before the bar's clock starts, not inside its first step."""
    import index.pipeline as pipeline
    from index.embedder import TorchBackend

    embedder = TorchBackend(cache_dir=tmp_path / "models")  # a fresh one: its PyTorch model is not loaded yet
    seen = []

    class RecordingBar(pipeline.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if kwargs.get("desc") == "embedding":
                seen.append("model" in embedder.bulk.__dict__)  # cached_property: loaded once present

    monkeypatch.setattr(pipeline, "tqdm", RecordingBar)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Alpha\nThe alpha project started in 2020. It ended in 2024.", encoding="utf-8")
    build_index([folder], ChromaStore(path=tmp_path / "chroma"), embedder, progress=True)
    assert seen == [True]
