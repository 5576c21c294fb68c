"""Store hygiene (issue 30): a build that fails is deleted at once, even when it fails while
creating its collections; pruned builds leave no HNSW segment folders behind; and an ONNX
export on a disk without room says which disk and how much it needs. Real model, real store."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections import namedtuple

import pytest

from assistant.settings import Settings
from index import build_index

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _docs(tmp_path, n: int = 2):
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)
    for i in range(n):
        (folder / f"d{i}.txt").write_text(f"Note {i}\n\nThe depot number {i} opens at {i + 6} in the morning.\n", encoding="utf-8")
    return folder


def _segments(store_path):
    con = sqlite3.connect(store_path / "chroma.sqlite3")
    try:
        owned = {r[0] for r in con.execute("SELECT id FROM segments")}
    finally:
        con.close()
    on_disk = {p.name for p in store_path.iterdir() if p.is_dir() and UUID.match(p.name)}
    return owned, on_disk


def test_rebuilds_leave_no_orphan_segment_folders(tmp_path, embedder):
    settings = Settings(data_dir=tmp_path / "data")
    store, folder = settings.open_store(), _docs(tmp_path)
    for n in range(4):
        build_index([folder], store, embedder, progress=False, rebuild=n > 0)
    owned, on_disk = _segments(settings.index.store_path)
    assert len(store.builds()) == 2 and on_disk <= owned, sorted(on_disk - owned)


def test_a_build_that_fails_while_creating_its_collections_is_deleted(tmp_path, embedder):
    settings = Settings(data_dir=tmp_path / "data")
    store, folder = settings.open_store(), _docs(tmp_path)
    build_index([folder], store, embedder, progress=False)
    create, calls = store.client.create_collection, []

    def full_disk_on_the_second(*args, **kwargs):
        calls.append(args[0] if args else kwargs.get("name"))
        if len(calls) == 2:
            raise sqlite3.OperationalError("database or disk is full")
        return create(*args, **kwargs)

    store.client.create_collection = full_disk_on_the_second
    try:
        with pytest.raises(Exception, match="full"):
            build_index([folder], store, embedder, progress=False, rebuild=True)
    finally:
        store.client.create_collection = create
    assert len(calls) == 2 and all(done for _, done in store.builds()), store.builds()
    names = [c.name if hasattr(c, "name") else str(c) for c in store.client.list_collections()]
    assert not any(name.startswith(calls[0].rsplit("-", 1)[0]) for name in names)  # the failed build's first collection is gone
    owned, on_disk = _segments(settings.index.store_path)
    assert on_disk <= owned


def test_an_onnx_export_without_room_names_the_disk_and_the_space_needed(tmp_path, monkeypatch):
    import index.onnx_embedder as onnx_embedder
    from index.errors import ModelError
    from index.packaged_model import packaged_model_path

    model_dir = packaged_model_path()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 12 * 10**6, 12 * 10**6))
    with pytest.raises(ModelError) as err:
        onnx_embedder.export_onnx(model_dir, tmp_path / "models" / "model.onnx", quantize=False)
    message = str(err.value)
    assert "needs about 10" in message and "MB in " + str(tmp_path / "models") in message and "12 MB free" in message
    assert "torch and onnx" not in message and not (tmp_path / "models" / "model.onnx").exists()
