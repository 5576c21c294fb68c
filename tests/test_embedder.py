"""The embedding backends and precisions: same model, close vectors; the exported ONNX file is checked."""

from __future__ import annotations

import numpy as np
import pytest

from index.embedder import OnnxInt8Embedder, SentenceTransformerEmbedder, cpu_has_native_bfloat16
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


def test_precision_auto_follows_the_cpu_and_unknown_values_are_refused():
    expected = "bfloat16" if cpu_has_native_bfloat16() else "float32"
    assert SentenceTransformerEmbedder().precision == expected
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        SentenceTransformerEmbedder(precision="fp8")


def test_onnx_int8_vectors_match_torch_closely(article, embedder, settings):
    onnx = embedder if isinstance(embedder, OnnxInt8Embedder) else OnnxInt8Embedder(cache_dir=settings.data_dir / "models")
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
    src = OnnxInt8Embedder(cache_dir=settings.data_dir / "models")
    src.session  # exported (or cached) once
    copy = OnnxInt8Embedder(cache_dir=tmp_path)
    copy.model_file.write_bytes(src.model_file.read_bytes()[:-10] + b"0123456789")
    copy.model_file.with_suffix(".sha256").write_text(src.model_file.with_suffix(".sha256").read_text())
    with pytest.raises(ModelError, match="does not match its recorded SHA-256"):
        copy.session
