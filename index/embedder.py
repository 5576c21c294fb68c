"""Text -> embeddings, with the packaged all-MiniLM-L6-v2 loaded by path, offline.

One seam, :class:`Embedder`, with one model run three ways: :class:`SentenceTransformerEmbedder`
(PyTorch; in bfloat16 on CPUs with native bfloat16 arithmetic, else float32) and
:class:`OnnxEmbedder` (the same weights exported to ONNX, in float32 or with int8 weights).
:func:`make_embedder` picks by ``Settings.embedding_backend``: ``torch`` is
:class:`TorchBackend` (PyTorch for indexing, float32 ONNX for questions: the same vectors),
``onnx-int8`` the quantized export.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from index.errors import ModelError
from index.onnx_embedder import OnnxEmbedder
from index.packaged_model import MODEL_NAME, PackagedModel, verify_weights

__all__ = ["EMBEDDING_BACKENDS", "MODEL_NAME", "PRECISIONS", "QUERY_EMBEDDINGS", "Embedder", "OnnxEmbedder", "SentenceTransformerEmbedder", "TorchBackend", "make_embedder"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 embeddings (so dot product = cosine similarity).

    ``name`` identifies the model *and* how it is run (vectors of different names are never
    mixed in one index); ``max_tokens`` is the number of word pieces, without special tokens,
    that it reads before truncating; ``count_tokens`` counts them with the model's tokenizer.
    """

    name: str
    dimension: int
    max_tokens: int

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions (or other short texts at answer time, e.g. claims to verify): float32
        ``[len(texts), dimension]``, rows unit-norm. As sentence-transformers' ``encode_query``."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages and sentences to index: float32 ``[len(texts), dimension]``, rows
        unit-norm. As sentence-transformers' ``encode_document``. all-MiniLM-L6-v2 has no query
        or document prompt, so both give the same vectors; which *runtime* serves each is the
        backend's choice (:class:`TorchBackend`), never a guess from the batch size."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces of each text, without special tokens (the model's own tokenizer)."""
        ...

    # Optional: ``load()`` loads the model now rather than in the first ``embed``, and
    # ``prepare_documents(count)`` chooses and loads the one that will embed ``count`` texts (the
    # indexer calls the second if there is one, else the first, before its progress bar starts,
    # so the bar's rate counts embedding only).


def cpu_has_native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (x86 ``amx_bf16`` or ``avx512_bf16`` in
    ``/proc/cpuinfo``; Linux only, False elsewhere). Without it PyTorch emulates bfloat16,
    which is slower than float32."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return bool(re.search(r"\b(amx_bf16|avx512_bf16)\b", flags))


PRECISIONS = ("auto", "bfloat16", "float32")
"""Values of ``Settings.embedding_precision``: ``auto`` = bfloat16 if :func:`cpu_has_native_bfloat16`."""


class SentenceTransformerEmbedder(PackagedModel):
    """all-MiniLM-L6-v2 through sentence-transformers and PyTorch on the CPU, never touching a model hub.

    Args:
        model_dir: Folder with the weights; default: the packaged model.
        batch_size: Texts per forward pass when embedding many (default 64, the fastest of
            16/32/64/128 for bfloat16; see benchmarks/SCALE.md).
        verify: Check the weights' SHA-256 before loading (default True).
        precision: ``float32`` (the reference), ``bfloat16`` (weights and arithmetic in
            bfloat16, faster on a CPU with AMX, vectors at cosine ≥ 0.9999
            to float32's) or ``auto`` (bfloat16 where :func:`cpu_has_native_bfloat16`).

    Attributes:
        name: :data:`MODEL_NAME` whatever the precision: the vectors are interchangeable
            (cosine ≥ 0.9999 between them, measured on 1,400 passages and sentences), so an
            index built in one precision serves queries embedded in the other. A folder whose
            pipeline adds modules (a Dense head) gets them in its name (:attr:`pipeline`).
        dimension: 384 for the packaged model (the pipeline's output size). max_tokens: 254.

    The model is loaded on first use, so constructing this object is instant.
    """

    def __init__(self, model_dir: Path | None = None, batch_size: int = 64, verify: bool = True, precision: str = "auto") -> None:
        super().__init__(model_dir, verify)
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
        self.batch_size = batch_size
        self.precision = ("bfloat16" if cpu_has_native_bfloat16() else "float32") if precision == "auto" else precision

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

        import torch

        dtype = torch.bfloat16 if self.precision == "bfloat16" else torch.float32
        try:
            return SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True, model_kwargs={"torch_dtype": dtype})
        except OSError as err:
            raise ModelError(f"Cannot load the embedding model from {self.model_dir}: {err}") from None

    def load(self) -> None:
        """Load the model now (a few seconds on the first call, then nothing)."""
        self.model  # noqa: B018 - the cached property loads it

    def embed(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Embed ``texts``: float32 array ``[len(texts), 384]``, rows L2-normalised.

        sentence-transformers sorts the texts by length before batching, so passing many at
        once wastes less time on padding than many small calls.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        out = np.asarray(out, dtype=np.float32)
        if self.precision == "bfloat16":  # normalised in bfloat16; renormalise in float32
            out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


class TorchBackend:
    """The ``torch`` backend: PyTorch (sentence-transformers) embeds documents; questions go to
    the float32 ONNX export of the same model (``query="onnx"``, the default) or to PyTorch too
    (``query="torch"``).

    Both run the float model and give the same vectors (cosine ≥ 0.9999), so they share
    ``name`` = :data:`MODEL_NAME`. The ONNX export embeds a single question faster, and a process
    that only answers never imports PyTorch (a shorter cold ``assistant ask``); PyTorch in
    bfloat16 is faster on the hundreds of texts per call of indexing (benchmarks/RESULTS.md).

    Args:
        model_dir, cache_dir: As for :class:`OnnxEmbedder`. precision: As for
            :class:`SentenceTransformerEmbedder`.
        query: ``"onnx"`` or ``"torch"`` (``Settings.query_embedding``). A model folder whose
            pipeline is not the packaged one (:attr:`SentenceTransformerEmbedder.pipeline`) is
            always run by sentence-transformers: the ONNX export has no Dense head.

    Raises:
        ValueError: unknown ``query``.
    """

    def __init__(self, model_dir: Path | None = None, cache_dir: Path | None = None, precision: str = "auto", query: str = "onnx") -> None:
        if query not in QUERY_EMBEDDINGS:
            raise ValueError(f"unknown query embedding {query!r}; use one of {', '.join(QUERY_EMBEDDINGS)}")
        self.bulk = SentenceTransformerEmbedder(model_dir, precision=precision)
        # one question per call: a second intra-op thread cost more CPU than it saved (benchmarks/ort_threads.py)
        self.few = OnnxEmbedder(model_dir, cache_dir=cache_dir, quantized=False, threads=1)
        self.name = self.bulk.name  # MODEL_NAME, plus the pipeline of a folder that adds modules
        self.dimension = self.bulk.dimension
        self.max_tokens = self.bulk.max_tokens
        self.query = query
        self._documents: OnnxEmbedder | None = None  # the ONNX model on every core, for a small build
        self._documents_by_onnx = False

    @property
    def _for_queries(self):
        return self.few if self.query == "onnx" and self.pipeline_is_packaged else self.bulk

    def load(self) -> None:
        """Load the PyTorch model that embeds documents now, instead of in the first :meth:`embed_documents`."""
        self.bulk.load()

    def prepare_documents(self, count: int) -> None:
        """Choose and load the model that embeds the next ``count`` texts to index (the indexer
        calls this before its progress bar starts): the float32 ONNX export on every core when it
        is already on disk, the folder's pipeline is the packaged one and ``count`` is at most
        :data:`ONNX_DOCUMENTS_MAX` (adding or changing a few files no longer imports PyTorch,
        about 5 s); else PyTorch. Both give the same vectors (cosine ≥ 0.9999)."""
        onnx = self.pipeline_is_packaged and count <= ONNX_DOCUMENTS_MAX and self.few.is_exported
        if onnx and self._documents is None:
            self._documents = OnnxEmbedder(self.few.model_dir, cache_dir=self.few.cache_dir, quantized=False, threads=0)
        (self._documents if onnx else self.bulk).load()
        self._documents_by_onnx = onnx

    @property
    def pipeline_is_packaged(self) -> bool:
        """Whether the model folder's pipeline is the packaged one (the ONNX export reproduces it)."""
        return self.bulk.pipeline is None

    def load_query(self) -> None:
        """Load (on the very first start: export) the model that embeds questions now."""
        self._for_queries.load()

    def load_query_in_background(self) -> None:
        """Start loading the ONNX model that embeds questions in a thread
        (:meth:`OnnxEmbedder.load_in_background`); nothing when questions go to PyTorch."""
        if self._for_queries is self.few:
            self.few.load_in_background()

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions: float32 ``[len(texts), dimension]``, rows L2-normalised, in input order."""
        return self._for_queries.embed(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts to index: float32 ``[len(texts), dimension]``, rows L2-normalised, in input
        order; by the model :meth:`prepare_documents` chose (PyTorch unless it chose ONNX)."""
        return (self._documents if self._documents_by_onnx else self.bulk).embed(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces of each text, without special tokens: ``[n_0, n_1, ...]``."""
        return self.bulk.count_tokens(texts)


ONNX_DOCUMENTS_MAX = 2000
"""A build that embeds at most this many texts (sentences and passages) does it with the float32
ONNX export when it is on disk (:meth:`TorchBackend.prepare_documents`). Measured on shared-2
(AMD EPYC, AVX2, 2026-12-07, 176 sentences of the seed and structured documents): ONNX Runtime on
2 threads 80 texts/s after a 0.3 s load, PyTorch float32 36 texts/s after a 5.7 s load, so on
such a CPU ONNX is faster at any size. On a CPU with native bfloat16, PyTorch runs about 2.8x its
float32 rate (benchmarks/RESULTS.md), about 100 texts/s, and pays back its load past about 2,000
texts: the two are about even at this bound, and a full index of many files stays on PyTorch."""

QUERY_EMBEDDINGS = ("onnx", "torch")
"""Values of ``Settings.query_embedding`` (what embeds questions with the ``torch`` backend)."""

EMBEDDING_BACKENDS = ("torch", "onnx-int8")
"""Values of ``Settings.embedding_backend``."""


def make_embedder(
    backend: str = "torch", model_dir: Path | None = None, cache_dir: Path | None = None, precision: str = "auto", query: str = "onnx"
) -> Embedder:
    """The embedder for ``backend`` (one of :data:`EMBEDDING_BACKENDS`); ``precision`` (one of
    :data:`PRECISIONS`) and ``query`` (one of :data:`QUERY_EMBEDDINGS`) apply to ``torch``.

    Raises:
        ValueError: unknown backend, precision or query embedding.
        ModelError: ``onnx-int8`` with a model folder whose pipeline adds modules (a Dense head).
    """
    if backend == "torch":
        return TorchBackend(model_dir, cache_dir, precision, query)
    if backend == "onnx-int8":
        embedder = OnnxEmbedder(model_dir, cache_dir=cache_dir, quantized=True)
        embedder.check_pipeline()
        return embedder
    raise ValueError(f"unknown embedding backend {backend!r}; use one of {', '.join(EMBEDDING_BACKENDS)}")
