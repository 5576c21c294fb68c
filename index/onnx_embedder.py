"""all-MiniLM-L6-v2 exported to ONNX and run by ONNX Runtime: float32 (how the ``torch`` backend
embeds questions without PyTorch) or with int8 weights (the ``onnx-int8`` backend).

The export (:func:`export_onnx`) runs once, locally, and is cached with its SHA-256 beside it.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from index.errors import ModelError
from index.locks import classify
from index.packaged_model import MODEL_NAME, MODEL_SHA256, PackagedModel, sha256_file, short_error, verify_weights

ONNX_EXPORT_VERSION = 2
"""Bump when :func:`export_onnx` changes what it writes; part of the file names and the int8 embedder's name."""

FFN_OUT = re.compile(r"layer\.\d+/output/dense/MatMul$")
"""Names of the feed-forward down-projections, kept in float32 when quantizing (their inputs have
outliers: quantizing them too lost 0.012 MRR); the reader's export keeps them too."""


def session_options(threads: int = 0):
    """ONNX Runtime session options for the models that answer questions: warnings and errors
    only, ``threads`` intra-op threads (0: ONNX Runtime's default, one per core), and threads
    that sleep when a run ends instead of spinning.

    ONNX Runtime's default keeps its intra-op threads busy-waiting after each run. A question
    is one short run, so the spinning thread burned about as much CPU as the whole answer:
    warm ``ask`` took about twice the CPU per question with it, at no better wall time (numbers
    in ``benchmarks/RESULTS.md``). On a server whose threads or processes share the cores,
    that spin is taken from the other questions.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def export_onnx(model_dir: Path, target: Path, quantize: bool = True) -> None:
    """Export the packaged model to ONNX (see :func:`_export_onnx`), leaving the process's
    logging as it was (the exporter installs a root log handler, which made every library's
    debug messages print)."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        _export_onnx(model_dir, target, quantize)
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)


EXPORT_MARGIN_BYTES = 10_000_000
"""Room left over after an export, besides :func:`export_bytes` (bytes)."""


def export_bytes(model_dir: Path, quantize: bool) -> int:
    """Disk space an export writes at its peak (bytes): the float32 graph is about the size of
    the weights (``*.safetensors``/``*.bin``; 90 MB for MiniLM-L6), and quantizing keeps it
    beside the int8 graph (a quarter of it) until the int8 one is moved in place."""
    weights = sum(f.stat().st_size for f in Path(model_dir).iterdir() if f.suffix in (".safetensors", ".bin"))
    return int(weights * (1.25 if quantize else 1.0)) + EXPORT_MARGIN_BYTES


def _no_room(folder: Path, needed: int) -> ModelError:
    from index.locks import disk_free

    return ModelError(
        f"Exporting the embedding model to ONNX needs about {needed / 1e6:.0f} MB in {folder}, and the disk holding it "
        f"has {disk_free(folder)} free; free some space there (or set ASSISTANT_DATA_DIR to a disk with room) and retry."
    )


def _ensure_room(model_dir: Path, target: Path, quantize: bool) -> int:
    """Create ``target``'s folder and check it has room for the export; the bytes needed.

    Raises:
        ModelError: the disk is full (the message says how much room is needed).
        OSError: the folder cannot be created for another reason.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        if classify(err) == "disk full":
            raise _no_room(target.parent, export_bytes(model_dir, quantize)) from None
        raise
    needed = export_bytes(model_dir, quantize)
    if shutil.disk_usage(target.parent).free < needed:
        raise _no_room(target.parent, needed)
    return needed


def _export_onnx(model_dir: Path, target: Path, quantize: bool) -> None:
    """Export the packaged model to ONNX, with int8 dynamic quantization if ``quantize``, written to ``target``.

    The graph is the whole sentence-transformers pipeline: BERT, mean pooling over the
    attention mask, L2 normalisation; inputs ``input_ids``, ``attention_mask``,
    ``token_type_ids`` (int64 ``[batch, seq]``), output ``sentence_embedding`` (float32
    ``[batch, 384]``). Export uses PyTorch's TorchScript-based ``torch.onnx.export``; weights of
    every MatMul but the feed-forward down-projections are quantized per channel to int8 by
    ``onnxruntime.quantization.quantize_dynamic`` (per-tensor quantization of all of them lost
    about ten times as much cosine against the float model; benchmarks/RESULTS.md).

    Why not sentence-transformers' ``backend="onnx"``: it needs ``optimum-onnx``, whose only
    release requires ``transformers<4.58`` while sentence-transformers 6 requires ``>=5``.

    Raises:
        ModelError: ``onnx`` (needed by the quantizer) is missing, or the export fails.
    """
    try:
        import onnx  # noqa: F401  (the exporter and the quantizer need it)
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        raise ModelError("Exporting the embedding model to ONNX needs the `onnx` package once: pip install onnx.") from None
    import tempfile
    import warnings

    import torch

    sample = {
        "input_ids": torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]]),
        "attention_mask": torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]),
        "token_type_ids": torch.zeros((2, 4), dtype=torch.long),
    }
    names = list(sample)
    needed = _ensure_room(model_dir, target, quantize)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        int8 = Path(tmp) / "model-int8.onnx"
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    _pooled_bert(model_dir), tuple(sample[n] for n in names), str(fp32), input_names=names,
                    output_names=["sentence_embedding"], opset_version=17, dynamo=False,
                    dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "sentence_embedding": {0: "batch"}},
                )
            if not quantize:
                os.replace(fp32, target)  # atomic: a concurrent reader sees no file or the whole file
                return
            _quantize(fp32, int8, QuantType, quantize_dynamic)
        except Exception as err:
            if classify(err) == "disk full" or classify(err.__cause__ or err.__context__ or err) == "disk full":
                raise _no_room(target.parent, needed) from None
            raise ModelError(f"Exporting the embedding model to ONNX failed ({err}); check that torch and onnx import, then retry.") from None
        os.replace(int8, target)  # atomic: a concurrent reader sees no file or the whole file


def _pooled_bert(model_dir: Path):
    """The sentence-transformers pipeline as one ``torch.nn.Module``: BERT, mean pooling over
    the attention mask, L2 normalisation (what the ONNX graph computes)."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class Pipeline(torch.nn.Module):
        def __init__(self, bert) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    return Pipeline(bert)


def _quantize(fp32: Path, int8: Path, quant_type, quantize_dynamic) -> None:
    """Write ``int8``: ``fp32`` with every MatMul's weights quantized per channel to int8,
    except the feed-forward down-projections (:data:`FFN_OUT`: they read GELU outputs with
    outliers that per-tensor activation quantization handles badly, so they stay float; mean
    cosine to the float model 0.993 -> 0.996 on the seed article)."""
    import logging

    import onnx

    keep_float = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "MatMul" and FFN_OUT.search(n.name)]
    logging.disable(logging.WARNING)  # the quantizer's advice to pre-process is for static quantization
    try:
        quantize_dynamic(
            str(fp32), str(int8), weight_type=quant_type.QInt8, per_channel=True, op_types_to_quantize=["MatMul"], nodes_to_exclude=keep_float
        )
    finally:
        logging.disable(logging.NOTSET)


class OnnxEmbedder(PackagedModel):
    """all-MiniLM-L6-v2 exported locally to ONNX, run by ONNX Runtime on the CPU, in float32 or
    with int8 weights.

    * ``quantized=True`` (backend ``onnx-int8``): faster than float32 PyTorch, slower than
      bfloat16 PyTorch on a CPU with AMX (benchmarks/RESULTS.md); vectors differ
      slightly from the float model's (mean cosine ≈ 0.996), so its ``name`` differs and an
      index is never mixed.
    * ``quantized=False``: the float model's vectors (``name`` = :data:`MODEL_NAME`), embedded
      without importing PyTorch: the ``torch`` backend's path for questions
      (see :class:`TorchBackend`).

    The export (:func:`export_onnx`, imports PyTorch) runs once and is cached in
    ``cache_dir`` with its SHA-256 beside it, checked at every load.

    Args:
        model_dir: Folder of the packaged weights (default: the packaged model).
        cache_dir: Folder for the exported model file.
        batch_size: Texts per forward pass (default 32); texts are sorted by length first.
        verify: Check the weights' SHA-256 before exporting (default True).
        quantized: int8 weights (default) or float32.
        threads: ONNX Runtime intra-op threads (0: one per core, for batches of documents; 1 for a
            model that only embeds questions, see :class:`~index.embedder.TorchBackend`).
    """

    def __init__(
        self, model_dir: Path | None = None, cache_dir: Path | None = None, batch_size: int = 32, verify: bool = True,
        quantized: bool = True, threads: int = 0,
    ) -> None:
        super().__init__(model_dir, verify)
        self.cache_dir = Path(cache_dir) if cache_dir else self.model_dir
        self.batch_size = batch_size
        self.quantized = quantized
        self.threads = threads

    @cached_property
    def name(self) -> str:
        """:data:`MODEL_NAME` (float32), or with ``@onnx-int8-v{ONNX_EXPORT_VERSION}`` (int8 weights)."""
        return f"{MODEL_NAME}@onnx-int8-v{ONNX_EXPORT_VERSION}" if self.quantized else MODEL_NAME

    def check_pipeline(self) -> None:
        """Raise :class:`ModelError` if the model folder's pipeline is not the one the export reproduces."""
        if self.pipeline is not None:
            raise ModelError(
                f"The ONNX embedding backends run only the packaged pipeline (Transformer, mean Pooling, Normalize); the model "
                f"at {self.model_dir} is {self.pipeline.split('#')[0]}: set ASSISTANT_EMBEDDING_BACKEND=torch."
            )

    @property
    def model_file(self) -> Path:
        """Where the exported model is cached (named after the weights' hash, the precision and the export version)."""
        kind = "int8" if self.quantized else "fp32"
        return self.cache_dir / f"all-MiniLM-L6-v2-{MODEL_SHA256[:12]}-{kind}-v{ONNX_EXPORT_VERSION}.onnx"

    @property
    def is_exported(self) -> bool:
        """Whether the exported model and its checksum are on disk (loading it exports nothing)."""
        return self.model_file.is_file() and self.model_file.with_suffix(".sha256").is_file()

    @cached_property
    def session(self):
        """The ONNX Runtime session (exports the model first if it is not cached)."""
        import onnxruntime as ort

        self.check_pipeline()
        target = self.model_file
        if not target.is_file() and self.cache_dir.is_dir() and not os.access(self.cache_dir, os.W_OK):
            import tempfile  # a read-only data dir without the export: export into a temporary folder

            target = Path(tempfile.mkdtemp(prefix="assistant-onnx-")) / target.name
        stamp = target.with_suffix(".sha256")
        if not (target.is_file() and stamp.is_file()):
            if self._verify:
                verify_weights(self.model_dir)
            kind = "int8" if self.quantized else "float32"
            sys.stderr.write(f"exporting the embedding model to ONNX ({kind}) into {target.parent}, once (about 15 s on 2 CPU cores)\n")
            export_onnx(self.model_dir, target, self.quantized)
            stamp.write_text(sha256_file(target), encoding="utf-8")
        elif sha256_file(target) != stamp.read_text(encoding="utf-8").strip():
            raise ModelError(f"{target} does not match its recorded SHA-256; delete it and it will be exported again.")
        ort.disable_telemetry_events()  # ORT_DISABLE_TELEMETRY (index.privacy) already stops it; belt and braces
        try:
            return ort.InferenceSession(str(target), session_options(self.threads), providers=["CPUExecutionProvider"])
        except Exception as err:
            raise ModelError(f"Cannot load {target} ({short_error(err)}); delete it and it will be exported again.") from None

    @cached_property
    def _batch_tokenizer(self):
        from tokenizers import Tokenizer

        tok = Tokenizer.from_str(self.tokenizer.to_str())
        tok.enable_truncation(self.max_tokens + 2)  # never reached for our passages; a safety net
        tok.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in the batch
        return tok

    def load(self) -> None:
        """Load (on the very first start: export) the model now, instead of in the first :meth:`embed`."""
        self._wait_for_background_load()
        self.session  # noqa: B018 - the cached property loads it

    def load_in_background(self) -> None:
        """Start loading the session and the tokenizer in a daemon thread, so the caller can open
        the store meanwhile (a cold ``assistant ask`` overlaps the two on a second core); the
        next :meth:`load` or :meth:`embed` waits for it, and raises what loading raised (it runs
        again there). Does nothing unless the export is already on disk: exporting imports
        PyTorch, and no import may run beside another thread's (one could see a module the other
        has half initialised), which is also why ONNX Runtime and tokenizers are imported here first."""
        if "session" in self.__dict__ or not self.is_exported:
            return
        import onnxruntime  # noqa: F401 - see above
        import tokenizers  # noqa: F401

        def load() -> None:
            try:
                self.session  # noqa: B018
                self._batch_tokenizer  # noqa: B018
            except Exception:  # noqa: BLE001 - raised again by the load or embed that waits for this thread
                pass

        self._loading = threading.Thread(target=load, name="onnx-session", daemon=True)
        self._loading.start()

    def _wait_for_background_load(self) -> None:
        loading = self.__dict__.pop("_loading", None)
        if loading is not None:
            loading.join()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``: float32 array ``[len(texts), 384]``, rows L2-normalised, in input order."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        self._wait_for_background_load()
        session, tok = self.session, self._batch_tokenizer
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding per batch
        for i in range(0, len(order), self.batch_size):
            rows = order[i : i + self.batch_size]
            enc = tok.encode_batch([texts[r] for r in rows])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out[rows] = session.run(None, feed)[0]
        return out
