"""The embedding backends and precisions: same model, close vectors; the exported ONNX file is checked."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from index.embedder import OnnxEmbedder, SentenceTransformerEmbedder, TorchBackend, cpu_has_native_bfloat16
from index.errors import ModelError


def _texts(article) -> list[str]:
    return [line for line in article.text.splitlines() if len(line) > 40][:24] + ["Who is Japan's chief negotiator?"]


def test_bfloat16_vectors_are_interchangeable_with_float32(article):
    texts = _texts(article)
    fp32 = SentenceTransformerEmbedder(precision="float32")
    bf16 = SentenceTransformerEmbedder(precision="bfloat16")
    a, b = fp32.embed(texts), bf16.embed(texts)
    assert a.dtype == b.dtype == np.float32 and a.shape == b.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert (a * b).sum(axis=1).min() > 0.999  # measured 0.9999 on 1,400 passages and sentences
    assert fp32.name == bf16.name  # one index serves both


def test_the_torch_backend_embeds_questions_with_float32_onnx_and_documents_with_pytorch(article, settings):
    backend = TorchBackend(cache_dir=settings.index.data_dir / "models")
    texts = _texts(article)[:20]
    queries = backend.embed_query(texts)  # the ONNX export, whatever the number of texts
    assert "model" not in backend.bulk.__dict__  # PyTorch not loaded for it
    documents = backend.embed_documents(texts[:3])  # the PyTorch model, however few
    assert "model" in backend.bulk.__dict__
    assert (queries[:3] * documents).sum(axis=1).min() > 0.999
    assert backend.name == backend.few.name == backend.bulk.name


def test_a_small_build_embeds_its_documents_with_the_onnx_export_and_a_large_one_with_pytorch(article, settings, assistant):
    """assistant (the fixture) has exported the ONNX model into the data dir; a build of at most
    ONNX_DOCUMENTS_MAX texts uses it on every core and never loads PyTorch."""
    from index.embedder import ONNX_DOCUMENTS_MAX

    assistant.warm_up()
    backend = TorchBackend(cache_dir=settings.index.data_dir / "models")
    texts = _texts(article)[:6]
    backend.prepare_documents(len(texts))
    small = backend.embed_documents(texts)
    assert "model" not in backend.bulk.__dict__ and backend._documents.threads == 0
    backend.prepare_documents(ONNX_DOCUMENTS_MAX + 1)
    large = backend.embed_documents(texts)
    assert "model" in backend.bulk.__dict__
    assert (small * large).sum(axis=1).min() > 0.9999  # one index holds both
    fresh = TorchBackend(cache_dir=settings.index.data_dir / "no-export-here")
    fresh.prepare_documents(3)  # no export on disk: PyTorch (exporting would import it anyway)
    assert "model" in fresh.bulk.__dict__ and fresh._documents is None


def test_indexing_a_few_files_does_not_import_pytorch(assistant, settings, tmp_path):
    """With the ONNX export on disk (copied from the session's data dir), ``assistant index`` of
    a small folder embeds it without importing PyTorch or sentence-transformers."""
    import shutil

    assistant.warm_up()  # the export is on disk
    export = assistant.embedder.few.model_file
    models = tmp_path / "data" / "models"
    models.mkdir(parents=True)
    for f in (export, export.with_suffix(".sha256")):
        shutil.copy(f, models / f.name)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "note.md").write_text("# Parking\n\nThe staff car park opens at 07:00.\n", encoding="utf-8")
    code = (
        "import sys\n"
        "from assistant import Assistant, Settings\n"
        "a = Assistant.from_settings(Settings(), ensure_index=False, progress=False)\n"
        f"report = a.index([{str(tmp_path / 'docs')!r}], progress=False)\n"
        "print(report.added, [m for m in ('torch', 'sentence_transformers') if m in sys.modules])\n"
    )
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-800:]
    assert done.stdout.strip().splitlines()[-1] == "('note.md',) []", done.stdout


def test_questions_can_be_embedded_by_pytorch_and_unknown_choices_are_refused(article, settings):
    backend = TorchBackend(cache_dir=settings.index.data_dir / "models", query="torch")
    backend.embed_query(_texts(article)[:2])
    assert "model" in backend.bulk.__dict__ and "session" not in backend.few.__dict__
    with pytest.raises(ValueError, match="unknown query embedding 'gpu'"):
        TorchBackend(query="gpu")


@pytest.mark.unit
def test_precision_auto_follows_the_cpu_and_unknown_values_are_refused():
    expected = "bfloat16" if cpu_has_native_bfloat16() else "float32"
    assert SentenceTransformerEmbedder().precision == expected
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        SentenceTransformerEmbedder(precision="fp8")


def test_onnx_int8_vectors_match_torch_closely(article, embedder, settings):
    onnx = OnnxEmbedder(cache_dir=settings.index.data_dir / "models", quantized=True)
    torch = SentenceTransformerEmbedder(precision="float32")
    texts = _texts(article)
    a, b = torch.embed(texts), onnx.embed(texts)
    assert a.shape == b.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    cos = (a * b).sum(axis=1)
    assert cos.min() > 0.97 and cos.mean() > 0.99
    assert onnx.name != torch.name  # never mixed in one index
    assert onnx.count_tokens(texts) == torch.count_tokens(texts)
    assert torch.max_tokens == onnx.max_tokens == 254


def test_a_tampered_onnx_file_is_refused(tmp_path, embedder, settings):
    src = OnnxEmbedder(cache_dir=settings.index.data_dir / "models")
    src.session  # exported (or cached) once
    copy = OnnxEmbedder(cache_dir=tmp_path)
    copy.model_file.write_bytes(src.model_file.read_bytes()[:-10] + b"0123456789")
    copy.model_file.with_suffix(".sha256").write_text(src.model_file.with_suffix(".sha256").read_text())
    with pytest.raises(ModelError, match="does not match its recorded SHA-256"):
        copy.session


def test_answering_does_not_load_pytorch(assistant, settings):
    """A process that only answers (index built, models exported) embeds its questions with the
    float32 ONNX export: PyTorch and sentence-transformers are never imported (fast cold start)."""
    code = (
        "import sys\n"
        "from assistant import Assistant, Settings\n"
        "a = Assistant.from_settings(Settings(), progress=False)\n"
        "answer = a.ask(\"Who is Japan's chief negotiator?\")\n"
        "print(answer.abstained, [m for m in ('torch', 'sentence_transformers') if m in sys.modules])\n"
    )
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(settings.index.data_dir)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip().splitlines()[-1] == "False []"


def test_the_question_model_does_not_spin_its_threads_between_questions(assistant):
    """The served session sleeps its intra-op threads after a run (ONNX Runtime spins them by
    default, which cost about as much CPU as answering) and, when it only embeds questions, runs
    on one thread (see index.onnx_embedder.session_options and benchmarks/ort_threads.py)."""
    assistant.warm_up()
    embedder = assistant.embedder
    session = getattr(embedder, "few", embedder).session
    options = session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    if hasattr(embedder, "few"):  # the torch backend: its ONNX model only embeds questions, on one thread
        assert options.intra_op_num_threads == 1
