"""The reader: a cross-encoder that reads the question and a candidate sentence together and
gives the probability that the sentence answers the question.

Trained by ``benchmarks/train_reader.py`` from the packaged all-MiniLM-L6-v2 weights (its first
layers) on the *fit* documents of the public question sets, exported to ONNX with int8 weights
by ``benchmarks/export_reader.py``, and shipped in ``assistant/models/reader/`` with its
``MODEL_CARD.md``. It runs on ONNX Runtime with the ``tokenizers`` library: a process that
answers questions never imports PyTorch. The file's SHA-256 is checked before it is loaded;
a missing or altered file is an error naming the file and the expected checksum (there is no
fallback).

Probabilities are calibrated: ``sigmoid(scale * logit + bias)``, with ``scale`` and ``bias``
fitted (Platt scaling) on held-out fit documents (see :data:`CALIBRATION`). Every fitted value
is read from ``assistant/models/reader/config.json``.

Thread safety: the ONNX Runtime session and the tokenizer are created once under a lock and
then only read; ``InferenceSession.run`` may be called from several threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.answering.model_home import home, read_config
from assistant.answering.reader_input import PairEncoder
from index.packaged_model import sha256_file
from index.errors import ModelError

READER_DIR = home("reader")
"""Folder of the shipped reader: ``reader-int8.onnx``, ``config.json`` and ``MODEL_CARD.md``
(:mod:`assistant.answering.model_home`)."""


def _config() -> dict:
    try:
        return read_config(READER_DIR)
    except (OSError, ValueError):  # no config: no trained reader shipped (Reader.verify says how to train one)
        return {}


_CONFIG = _config()

READER_FILE: str = _CONFIG.get("file", "reader-int8.onnx")
"""The ONNX file's name in :data:`READER_DIR` (``file`` of its config.json)."""

READER_SHA256: str | None = _CONFIG.get("sha256")
"""SHA-256 of the shipped :data:`READER_FILE` (``sha256`` of its config.json, written by
``benchmarks/export_reader.py``), checked before loading. ``None`` means no trained reader is
shipped: ``answer_model="reader"`` is then an error that says how to train one."""

CALIBRATION: tuple[float, float] = (
    float(_CONFIG.get("calibration", {}).get("scale", 1.0)), float(_CONFIG.get("calibration", {}).get("bias", 0.0))
)
"""``(scale, bias)`` of the Platt scaling ``p = sigmoid(scale * logit + bias)`` (``calibration``
of its config.json, fitted on the held-out fit documents)."""

FUSION: dict[str, float] = dict(_CONFIG.get("fusion", {}))
"""Learned fusion of the reader with the retriever's evidence: ``p = sigmoid(logit * w_logit +
fused * w_fused + similarity * w_similarity + coverage * w_coverage + bias)`` (``fusion`` of its
config.json, written by ``benchmarks/fit_reader.py --write``: ``fit_listwise``, a conditional
logit over each answerable question's candidates, then Platt-scaled on the best candidate's
score, so ``p`` is a calibrated probability). ``fused``, ``similarity`` and ``coverage`` are the
retriever's scores of the sentence (see :class:`assistant.retrieval.retriever.ScoredSentence`)."""

READER_NAME: str = _CONFIG.get("name", "reader")
"""Name of the shipped reader (recorded in eval reports; ``name`` of its config.json)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence to read, with what says what it is about.

    Attributes:
        sentence: The candidate sentence (whole; split into windows if it is too long).
        title: Its document's title. context: Text before it (the previous sentence, earlier
            turns of the conversation); its end is kept when room is short.
    """

    sentence: str
    title: str = ""
    context: str = ""


class Reader:
    """Scores (question, candidate) pairs with the shipped cross-encoder.

    Args:
        model_file: The ONNX file (default: the shipped one). expected_sha256: Its checksum
            (default :data:`READER_SHA256`). calibration: ``(scale, bias)``, default :data:`CALIBRATION`.
        batch_size: Inputs per ONNX Runtime call.
    """

    def __init__(
        self,
        model_file: Path | None = None,
        expected_sha256: str | None = READER_SHA256,
        calibration: tuple[float, float] = CALIBRATION,
        batch_size: int = 32,
    ) -> None:
        self.model_file = Path(model_file) if model_file else READER_DIR / READER_FILE
        self.expected_sha256 = expected_sha256
        self.scale, self.bias = calibration
        self.batch_size = batch_size
        self.name = READER_NAME
        self._lock = threading.Lock()
        self._session = None
        self._encoder: PairEncoder | None = None

    def verify(self) -> None:
        """Check the model file's SHA-256.

        Raises:
            ModelError: the file is missing or its checksum differs (the message names both).
        """
        f = self.model_file
        if self.expected_sha256 is None:
            raise ModelError(
                f"No trained reader is shipped in {f.parent} yet; train and export one (python benchmarks/train_reader.py, "
                "then benchmarks/export_reader.py), or set ASSISTANT_ANSWER_MODEL=rules."
            )
        if not f.is_file():
            raise ModelError(f"The reader model {f} is missing (expected SHA-256 {self.expected_sha256}); reinstall the assistant package.")
        got = sha256_file(f)
        if got != self.expected_sha256:
            raise ModelError(f"The reader model {f} has SHA-256 {got}, expected {self.expected_sha256}: it is corrupt or altered; reinstall the assistant package.")

    def _load(self) -> tuple[object, PairEncoder]:
        with self._lock:
            if self._session is None:
                self.verify()
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                import onnxruntime as ort

                from index.onnx_embedder import session_options
                from index.packaged_model import PackagedModel

                ort.disable_telemetry_events() if hasattr(ort, "disable_telemetry_events") else None
                try:
                    session = ort.InferenceSession(str(self.model_file), session_options(), providers=["CPUExecutionProvider"])
                except Exception as err:  # onnxruntime raises its own Exception subclasses
                    raise ModelError(f"Cannot load the reader model {self.model_file} ({str(err).splitlines()[0][:200]}); reinstall the assistant package.") from None
                self._encoder = PairEncoder(PackagedModel(None, False).tokenizer)
                self._session = session
            return self._session, self._encoder

    def warm_up(self) -> None:
        """Load (and verify) the model now rather than at the first question."""
        self.logits("warm up", [Candidate("warm up")])

    def logits(self, question: str, candidates: Sequence[Candidate], context_question: str = "") -> np.ndarray:
        """Raw scores, float32 ``[len(candidates)]`` (higher: more likely to answer); a
        sentence read in several windows gets its best window's score.

        ``context_question``: earlier turns of the conversation, read as context before each
        candidate's own context.
        """
        if not candidates:
            return np.zeros(0, dtype=np.float32)
        session, enc = self._load()
        q = enc.pieces([question])[0]
        texts = [c.sentence for c in candidates] + [c.title for c in candidates] + [(context_question + " " + c.context).strip() for c in candidates]
        pieces = enc.pieces(texts)
        n = len(candidates)
        rows, owner = [], []
        for i in range(n):
            for row in enc.encode_pair(q, pieces[i], pieces[n + i], pieces[2 * n + i]):
                rows.append(row)
                owner.append(i)
        scores = np.full(n, -np.inf, dtype=np.float32)
        order = sorted(range(len(rows)), key=lambda r: len(rows[r][0]))
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            width = max(len(rows[r][0]) for r in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            types = np.zeros_like(ids)
            mask = np.zeros_like(ids)
            for k, r in enumerate(idx):
                a, t = rows[r]
                ids[k, : len(a)], types[k, : len(t)], mask[k, : len(a)] = a, t, 1
            out = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
            for k, r in enumerate(idx):
                scores[owner[r]] = max(scores[owner[r]], out[k])
        return scores

    def probabilities(self, question: str, candidates: Sequence[Candidate], context_question: str = "") -> np.ndarray:
        """Calibrated probabilities that each candidate answers ``question``: float ``[len(candidates)]`` in (0, 1)."""
        return self.calibrate(self.logits(question, candidates, context_question))

    def fused_probabilities(self, logits: np.ndarray, fused, similarity, coverage, weights: dict | None = None) -> np.ndarray:
        """Probabilities from the reader's ``logits`` and the retriever's scores (arrays of the
        same length), with the :data:`FUSION` weights: float ``[n]`` in (0, 1)."""
        w = weights or FUSION
        z = (
            w["logit"] * np.asarray(logits, dtype=np.float64) + w["fused"] * np.asarray(fused, dtype=np.float64)
            + w["similarity"] * np.asarray(similarity, dtype=np.float64) + w["coverage"] * np.asarray(coverage, dtype=np.float64)
            + w["bias"]
        )
        return 1.0 / (1.0 + np.exp(-z))

    def calibrate(self, logits: np.ndarray) -> np.ndarray:
        """``sigmoid(scale * logit + bias)``, elementwise."""
        return 1.0 / (1.0 + np.exp(-(self.scale * np.asarray(logits, dtype=np.float64) + self.bias)))


_SHARED: Reader | None = None
_SHARED_LOCK = threading.Lock()


def make_reader() -> Reader:
    """The shipped reader, one per process (its session is shared by every assistant; loaded at first use)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Reader()
        return _SHARED
