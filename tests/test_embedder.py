"""The two embedding backends: same model, close vectors; the exported ONNX file is checked."""

from __future__ import annotations

import numpy as np
import pytest

from index.embedder import OnnxInt8Embedder, SentenceTransformerEmbedder
from index.errors import ModelError


def test_onnx_int8_vectors_match_torch_closely(article, embedder, settings):
    onnx = embedder if isinstance(embedder, OnnxInt8Embedder) else OnnxInt8Embedder(cache_dir=settings.data_dir / "models")
    torch = SentenceTransformerEmbedder()
    texts = [line for line in article.text.splitlines() if len(line) > 40][:24] + ["Who is Japan's chief negotiator?"]
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
