"""The groups of :class:`assistant.settings.Settings` but ``eval`` (:mod:`assistant.settings.eval`):
one pydantic model each, every field with a description and its unit, and the value types they share."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import NoDecode


def _split_list(value: Any) -> Any:
    """A list setting as typed: ``'["a", "b"]'`` (JSON), ``'a, b'`` (comma-separated) or ``'a'``
    (one value); an empty string is no value (the default applies). Non-strings pass unchanged."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError as err:
            raise ValueError(f"not a valid JSON list ({err.msg} at character {err.pos})") from None
    return [part.strip() for part in text.split(",") if part.strip()]


TextList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]
"""A list of strings read from one value, a comma-separated list or a JSON list."""

PathList = Annotated[list[Path], NoDecode, BeforeValidator(_split_list)]
"""A list of paths read like :data:`TextList` (a path with a comma in it needs the JSON form)."""

LIST_FORMS = "one value, a comma-separated list or a JSON list"

REMOVED = {
    "fusion": "hybrid retrieval always uses the convex fusion that the answerability model is fitted on (reciprocal rank "
    "fusion made every question abstain: its scores are about 0.04); unset it",
}
"""Settings that no longer exist, with why; setting one is an error rather than silently ignored."""

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""The source checkout (where ``seeds/`` lives in an editable install)."""


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "cited-assistant"


def _default_documents() -> list[Path]:
    """The shipped ``seeds/`` documents: the files in it that a reader takes (the seed folder also
    holds the question set ``questions.jsonl``, which is not a document, so a plain first start
    reports no skipped file), and its subfolders; the folder itself if none, or ``./seeds``."""
    from index.readers import SUPPORTED_SUFFIXES

    seeds = PROJECT_ROOT / "seeds"
    if not seeds.is_dir():
        return [Path("seeds")]
    found = [f for f in sorted(seeds.iterdir()) if not f.name.startswith(".") and (f.is_dir() or f.suffix.lower() in SUPPORTED_SUFFIXES)]
    return found or [seeds]
class IndexSettings(BaseModel):
    """Where the index lives and how documents become passages and embeddings (``assistant index``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder of the embedded Chroma store (path; default ~/.local/share/cited-assistant).",
    )
    documents: PathList = Field(
        default_factory=_default_documents,
        description="Files or folders of .txt/.md/.html/.pdf/.docx/.png/.jpg/.tif documents to index (paths; default the shipped seed article, seeds/japan-us-reset.txt).",
    )
    chroma_url: str | None = Field(
        default=None, description="http://host:port of a `chroma run` server; when set, used instead of data_dir."
    )
    model_path: Path | None = Field(
        default=None, description="Folder of sentence-transformers weights (path; default the packaged all-MiniLM-L6-v2)."
    )
    chunk_max_chars: int = Field(default=500, ge=100, le=4000, description="Passage size limit (characters).")
    embedding_backend: Literal["torch", "onnx-int8"] = Field(
        default="torch",
        description="How the embedding model runs: `torch` (sentence-transformers; precision set by "
        "embedding_precision) or `onnx-int8` (the same weights exported once to ONNX with int8 weights into "
        "data_dir/models: for CPUs without native bfloat16, see docs/models.md). Changing it rebuilds the index.",
    )
    query_embedding: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="With embedding_backend `torch`: what embeds questions (and the claims of a generated answer): "
        "`onnx`, the float32 ONNX export of the same model (faster per question, and an answering "
        "process never imports PyTorch; benchmarks/RESULTS.md), or `torch`, the model that embeds documents. Same vectors either way "
        "(cosine >= 0.9999), so changing it does not rebuild the index. `onnx-int8` embeds both with int8.",
    )
    embedding_precision: Literal["auto", "bfloat16", "float32"] = Field(
        default="auto",
        description="Arithmetic of the `torch` backend: `auto` = bfloat16 on CPUs that compute it natively "
        "(AMX or AVX512-BF16; vectors at cosine >= 0.9999 to float32's), else float32. "
        "Vectors of both precisions are interchangeable: changing it does not rebuild the index.",
    )
    embed_passages: bool = Field(
        default=True,
        description="Run the model on whole passages as well as on their sentences (the retriever scores passage "
        "vectors); off, a passage's vector is the normalised mean of its sentences' (less model time, lower hit@1: "
        "benchmarks/RESULTS.md). Changing it rebuilds the index.",
    )
    follow_symlinks: bool = Field(
        default=False,
        description="Index files that a symbolic link inside a documents folder points to outside that folder; "
        "off, such links are skipped and named in the index report.",
    )
    access_file: Path | None = Field(
        default=None,
        description="Access file mapping document globs to the groups that may read them, one `pattern: group, group` "
        "a line, first match wins (path; see index/access.py); read by `assistant index`. Unset: every document is "
        "readable by everyone. A document no rule matches is readable by nobody.",
    )
    check_seconds: float = Field(
        default=2.0,
        ge=0.0,
        description="How often a running assistant looks for a newer complete build of the index (written by "
        "`assistant index` in another process) and switches to it (seconds; 0 = before every question).",
    )
    lease_seconds: float = Field(
        default=60.0,
        ge=1.0,
        le=3600.0,
        description="Chroma server only: how long the writer lease of `assistant index` lasts without renewal "
        "(seconds; renewed every third of it while writing). An indexer that dies blocks others at most this long.",
    )
    store_lock_timeout: float = Field(
        default=10.0,
        gt=0.0,
        le=600.0,
        description="How long to wait for another process's lock on the embedded store before failing (seconds).",
    )
    ocr: bool = Field(
        default=True,
        description="Read scanned PDF pages and image files (.png/.jpg/.tif) by OCR (Tesseract: `apt-get install "
        "tesseract-ocr tesseract-ocr-eng`). Off, scanned pages are named at indexing and left out.",
    )
    ocr_languages: TextList = Field(
        default_factory=lambda: ["eng"],
        min_length=1,
        description="Tesseract language packs OCR reads with (codes, e.g. `eng` or `eng,deu`; each needs Debian's "
        "tesseract-ocr-<code>). Changing them runs OCR again on scanned pages.",
    )
    ocr_workers: int = Field(
        default=0, ge=0, le=64, description="Pages OCR reads at once (count; 0 = one per CPU core)."
    )

    @field_validator("documents", mode="before")
    @classmethod
    def _default_when_empty(cls, value: Any) -> Any:
        if value == "" or value == []:  # ASSISTANT_DOCUMENTS= (empty) means "the default", not "nothing"
            return _default_documents()
        return value

    @field_validator("ocr_languages")
    @classmethod
    def _language_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not code.replace("_", "").isalnum():
                raise ValueError(f"{code!r} is not a Tesseract language code (letters, digits and _, e.g. eng, chi_sim)")
        return value

    @property
    def store_path(self) -> Path:
        """Folder of the embedded Chroma store inside ``data_dir``."""
        return self.data_dir / "chroma"

    @property
    def ocr_cache_path(self) -> Path:
        """Folder of the OCR cache inside ``data_dir`` (one entry per scanned page, by content)."""
        return self.data_dir / "ocr-cache"


class RetrievalSettings(BaseModel):
    """How the retriever ranks passages for a question."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    bm25_weight: float = Field(
        default=1.5,
        ge=0.0,
        le=10.0,
        description="Weight of the lexical (BM25 coverage) score relative to the dense one in fusion (ratio).",
    )
    candidate_sentences: int = Field(
        default=30, ge=1, le=500, description="Sentences fetched per ranker before fusion (count)."
    )
    top_k: int = Field(default=5, ge=1, le=50, description="Passages returned by the retriever (count).")


class AnswerSettings(BaseModel):
    """What the extractive answer quotes, and when it abstains."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    max_answer_sentences: int = Field(default=3, ge=1, le=5, description="Sentences quoted in an answer at most (count).")
    abstain_below: float = Field(
        default=0.80,
        ge=-1.0,
        le=10.0,
        description="Abstain when the best sentence's fused score is below this: nothing in the documents is close "
        "(score units: cosine + bm25_weight * coverage; chosen on the fit documents against off-topic questions by "
        "benchmarks/fit_floor.py, see docs/evaluation.md). Questions "
        "that are close but not answered are the answerability model's (answerable_below).",
    )
    answerable_below: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Abstain when the answerability model's probability that the best sentence answers the question "
        "is below this (probability; unset: the threshold fitted with the model on the fit documents, "
        "assistant/models/answerability/config.json; 0 abstains by the checks only).",
    )
    second_sentence_ratio: float = Field(
        default=0.8,
        ge=0.0,
        le=1.0,
        description="With ablation.further_sentences=ratio, quote a further sentence only if its fused score is at "
        "least this fraction of the best one's (ratio).",
    )
    model: Literal["reader", "rules", "llm"] = Field(
        default="rules",
        description="The answer model (assistant.answering.answerers): `llm` has the language model of llm.model "
        "(ASSISTANT_LLM, required) write from the passages, its draft verified, with the rules' quotes when it fails "
        "(ASSISTANT_LLM alone does the same over the rules' or the reader's quotes). "
        "Otherwise what picks the quoted sentences and decides on abstention: `rules` (the fused retrieval score with "
        "the answerability probability and the checks of assistant.answering.abstention) or `reader` (the cross-encoder in assistant/models/reader/, "
        "trained by benchmarks/train_reader.py, reads each candidate sentence with the question; its file is checked by "
        "SHA-256 and a missing or altered file is an error, never a fallback to the rules). `rules` stays the default: "
        "the shipped reader ranks Wikipedia answers better but the seed article worse (PolicyQA about even), and does not tell "
        "answerable from unanswerable questions (see assistant/models/reader/MODEL_CARD.md).",
    )
    reader_threshold: float = Field(
        default=0.07,
        ge=0.0,
        le=1.0,
        description="Abstain when the reader's best calibrated probability is below this (probability; chosen on the "
        "fit documents of the public question sets, see assistant/models/reader/MODEL_CARD.md).",
    )
    reader_candidates: int = Field(
        default=12,
        ge=1,
        le=100,
        description="Sentences the reader reads per question: the best by fused score (count; each costs reader time, see "
        "benchmarks/RESULTS.md).",
    )
    reader_passages: int = Field(
        default=12,
        ge=1,
        le=50,
        description="Passages retrieved per question when the reader answers (count; at least top_k): the reader's "
        "candidates are their best sentences (how often they hold the answer: benchmarks/RESULTS.md).",
    )
    reader_second: float = Field(
        default=0.7,
        ge=0.0,
        le=1.0,
        description="Quote a further sentence when its reader probability is at least this fraction of the best one's (ratio).",
    )
    max_question_chars: int = Field(default=2000, ge=10, description="Longer questions are refused (characters).")
    max_history_turn_chars: int = Field(
        default=2000,
        ge=10,
        description="Longest earlier turn of a history (characters): the HTTP API refuses a longer one (422); "
        "the assistant skips it.",
    )
    max_history_chars: int = Field(
        default=20_000,
        ge=10,
        description="Most characters of all earlier turns together: the HTTP API refuses more (422); the assistant "
        "keeps the latest turns that fit.",
    )


class LLMSettings(BaseModel):
    """The optional chat model that writes answers from the retrieved passages."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    model: str | None = Field(
        default=None,
        description="Optional chat model that writes the answer from the retrieved passages, as provider:model "
        "(ollama:llama3.1, openai:gpt-4o-mini; any provider of LangChain's init_chat_model). Unset: extractive answers.",
    )
    base_url: str | None = Field(
        default=None, description="Base URL of the model server (e.g. http://ollama.intranet:11434, or an OpenAI-compatible /v1)."
    )
    api_key: SecretStr | None = Field(default=None, description="API key for the model server, if it needs one.")
    timeout: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Seconds a generated answer may take before the extractive answer is shown instead (seconds).",
    )


class AblationSettings(BaseModel):
    """Switches that exist to measure what each part of the answer path buys (``benchmarks/quality.py``).
    Leave them at their defaults in production: the abstention threshold is calibrated for them."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    retrieval_mode: Literal["dense", "bm25", "hybrid"] = Field(
        default="hybrid",
        description="Sentence retrieval: embeddings, BM25 keywords, or both fused as dense + bm25_weight * BM25 coverage.",
    )
    answer_unit: Literal["sentence", "passage"] = Field(
        default="sentence",
        description="Quote the best-supported sentences (cite their passages), or the best passage whole "
        "(cite the top 3 passages; the usual RAG baseline, kept to measure sentence selection).",
    )
    further_sentences: Literal["support", "ratio"] = Field(
        default="support",
        description="What decides a further quoted sentence: the support head's probability that it supports the answer "
        "too (assistant/models/support/config.json), or the fused score against the best one's (answer.second_sentence_ratio; "
        "the rule before the head, kept to measure it).",
    )
    abstention: bool = Field(
        default=True,
        description="Say the documents do not answer when the score is below abstain_below, the answerability probability below answerable_below, or a check in "
        "assistant.answering.abstention fails; off only to measure what abstention costs and buys.",
    )
    followups: bool = Field(
        default=True,
        description="Read a follow-up (a pronoun, or under four words) where the previous answer was; off to measure.",
    )
