"""The one typed configuration object, read once at the edge (CLI, UI) and passed down.

:class:`Settings` holds seven groups: ``index`` (store, documents, chunking, embedding),
``retrieval``, ``answer``, ``llm``, ``server``, ``ablation`` (switches that exist to measure)
and ``eval``. Each setting is read from the environment as ``ASSISTANT_<GROUP>__<FIELD>``
(``ASSISTANT_RETRIEVAL__TOP_K=3``) or, but for ``eval``, by the flat name it had before the
groups (``ASSISTANT_TOP_K=3``, ``ASSISTANT_DATA_DIR=/srv/assistant``; :data:`FLAT`). List
settings take one value, a comma-separated list or a JSON list (:data:`TextList`); dict
settings take JSON (``ASSISTANT_EVAL__FAIL_UNDER='{"hit@1": 0.9}'``). No other module reads
the environment. :func:`load_settings` is how the edges (CLI, server)
read them: any problem is one line naming the variable and what it takes.
"""

from __future__ import annotations

import difflib
import json
import os
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from assistant.errors import ConfigError
from assistant.settings.eval import DEFAULT_FAIL_OVER, DEFAULT_FAIL_UNDER, DEFAULT_SET_LIMITS, GATE_SETS, EvalSettings
from assistant.settings.groups import (
    LIST_FORMS,
    PROJECT_ROOT,
    REMOVED,
    AblationSettings,
    AnswerSettings,
    IndexSettings,
    LLMSettings,
    PathList,
    RetrievalSettings,
    TextList,
)
from assistant.settings.server import ServerSettings

if TYPE_CHECKING:
    from index.access import AccessRules
    from index.chunking import ChunkingConfig
    from index.embedder import Embedder
    from index.readers import ReadOptions
    from index.store import ChromaStore

__all__ = [
    "DEFAULT_FAIL_OVER", "DEFAULT_FAIL_UNDER", "DEFAULT_SET_LIMITS", "FLAT", "GATE_SETS", "GROUPS", "PROJECT_ROOT",
    "AblationSettings", "AnswerSettings", "EvalSettings", "IndexSettings", "LLMSettings", "PathList",
    "RetrievalSettings", "ServerSettings", "Settings", "TextList", "load_settings", "variables",
]

ENV_PREFIX = "ASSISTANT_"
GROUPS: dict[str, type[BaseModel]] = {
    "index": IndexSettings,
    "retrieval": RetrievalSettings,
    "answer": AnswerSettings,
    "llm": LLMSettings,
    "server": ServerSettings,
    "ablation": AblationSettings,
    "eval": EvalSettings,
}
"""The groups of :class:`Settings`, by field name."""

_RENAMED = {
    ("index", "check_seconds"): "index_check_seconds",
    ("index", "lease_seconds"): "index_lease_seconds",
    ("answer", "model"): "answer_model",
    ("llm", "model"): "llm",
    ("llm", "base_url"): "llm_base_url",
    ("llm", "api_key"): "llm_api_key",
    ("llm", "timeout"): "llm_timeout",
}

FLAT: dict[str, tuple[str, str]] = {
    _RENAMED.get((group, name), name): (group, name)
    for group, model in GROUPS.items()
    if group != "eval"
    for name in model.model_fields
}
"""Flat setting name -> (group, field): the names settings had before they were grouped, still
accepted as ``ASSISTANT_<NAME>`` variables and as keyword arguments (``Settings(top_k=3)``).
Every flat name is unique. The eval group has no flat names (it was always nested)."""


def variables(group: str, name: str) -> tuple[str, ...]:
    """The environment variables of one setting, the grouped form first:
    ``("ASSISTANT_RETRIEVAL__TOP_K", "ASSISTANT_TOP_K")``."""
    flat = [f"{ENV_PREFIX}{flat.upper()}" for flat, where in FLAT.items() if where == (group, name)]
    return (f"{ENV_PREFIX}{group.upper()}__{name.upper()}", *flat)


class _GroupedEnvironment(PydanticBaseSettingsSource):
    """Settings from the environment: ``ASSISTANT_<GROUP>__<FIELD>`` or the flat
    ``ASSISTANT_<NAME>`` of :data:`FLAT` (the grouped form wins when both are set), names
    case-insensitive. Values go to pydantic as strings, but for dict settings, which are JSON."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads every group at once

    def __call__(self) -> dict[str, Any]:
        environ = {key.upper(): value for key, value in os.environ.items() if key.upper().startswith(ENV_PREFIX)}
        values: dict[str, dict[str, Any]] = {}
        for group, model in GROUPS.items():
            for name, field in model.model_fields.items():
                for variable in variables(group, name):
                    if variable in environ:
                        values.setdefault(group, {})[name] = _decoded(field, variable, environ[variable])
                        break
        return values


def _decoded(field: FieldInfo, variable: str, value: str) -> Any:
    """``value`` as pydantic should see it: JSON for a dict setting, else the string itself.

    Raises:
        ConfigError: a dict setting that is not valid JSON.
    """
    if getattr(field.annotation, "__origin__", None) is not dict:
        return value
    try:
        return json.loads(value)
    except ValueError as err:
        raise ConfigError(f"invalid setting {variable}: not valid JSON ({err}). It takes: {field.description}") from None


def _grouped(values: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keyword values with flat names moved into their groups, over ``base`` (group -> model or
    dict). Flat names apply first, then groups: a group given as a dict changes the fields it
    names (winning over a flat name for the same field, as the grouped variable wins in the
    environment), a model replaces the group:
    ``{"top_k": 3, "retrieval": {"candidate_sentences": 9}}`` -> ``{"retrieval": {"top_k": 3, "candidate_sentences": 9}}``.
    ``"llm"`` is a group and the flat name of ``llm.model``: a dict or model there is the group."""
    out = dict(base or {})

    def fields(group: str) -> dict[str, Any]:
        current = out.get(group, {})
        return {name: getattr(current, name) for name in type(current).model_fields} if isinstance(current, BaseModel) else current

    flat = {key: value for key, value in values.items() if key in FLAT and not (key in GROUPS and isinstance(value, (dict, BaseModel)))}
    for key, value in flat.items():
        group, name = FLAT[key]
        out[group] = {**fields(group), name: value}
    for key, value in values.items():
        if key not in flat:
            out[key] = {**fields(key), **value} if key in GROUPS and isinstance(value, dict) else value
    return out


class Settings(BaseSettings):
    """Everything configurable, with units, in groups (``settings.retrieval.top_k``).

    ``Settings()`` reads the environment (see :class:`_GroupedEnvironment`); keyword arguments
    win over it and take the flat names of :data:`FLAT` (``Settings(top_k=3)``) or whole groups
    (``Settings(retrieval={"top_k": 3})``). :meth:`replace` is the validated copy with changes;
    pydantic's ``model_copy(update=...)`` does not validate and knows no flat names: do not use it.
    """

    model_config = SettingsConfigDict(extra="forbid")

    index: IndexSettings = Field(default_factory=IndexSettings, description="The store, the documents, chunking and embedding.")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Ranking passages for a question.")
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="What an answer quotes; abstention.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="The optional chat model writing answers.")
    server: ServerSettings = Field(default_factory=ServerSettings, description="`assistant serve`.")
    ablation: AblationSettings = Field(default_factory=AblationSettings, description="Switches kept to measure each part.")
    eval: EvalSettings = Field(default_factory=EvalSettings, description="`assistant eval`.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _GroupedEnvironment(settings_cls)

    def __init__(self, **values: Any) -> None:
        super().__init__(**_grouped(values))  # before pydantic-settings merges in the environment, group by group

    def replace(self, **changes: Any) -> Settings:
        """A validated copy with ``changes``: flat names (``replace(top_k=3)``), a group's fields as a
        dict (``replace(llm={"model": "ollama:x"})``) or a whole group model. What is not changed
        keeps its value (the environment is not read again).

        Raises:
            pydantic.ValidationError: a change is not a valid value.
        """
        return type(self).model_validate(_grouped(changes, {group: getattr(self, group) for group in GROUPS}))

    # -- What the settings build: the same store, embedder and chunking for `assistant index`
    # (which needs nothing else) and for answering. Imports are lazy: settings load fast.

    def open_store(self) -> ChromaStore:
        """The store the settings point at: the Chroma server at ``index.chroma_url`` if set,
        else the embedded store at ``index.store_path``. Opening it reads nothing yet."""
        from index.store import ChromaStore

        index = self.index
        if index.chroma_url:
            return ChromaStore(url=index.chroma_url, lease_seconds=index.lease_seconds)
        return ChromaStore(path=index.store_path, lock_timeout=index.store_lock_timeout)

    def make_embedder(self) -> Embedder:
        """The embedding model (:func:`index.embedder.make_embedder`); it loads on first use."""
        from index.embedder import make_embedder

        index = self.index
        return make_embedder(
            index.embedding_backend, index.model_path, index.data_dir / "models", index.embedding_precision, index.query_embedding
        )

    def reading(self) -> ReadOptions:
        """How files are read: OCR on or off (``index.ocr``), its languages and workers, and its
        cache in ``index.data_dir/ocr-cache`` (:class:`index.readers.ReadOptions`)."""
        from index.readers import ReadOptions
        from index.readers.ocr import OcrOptions

        index = self.index
        ocr = OcrOptions(index.ocr, tuple(index.ocr_languages), index.ocr_cache_path, index.ocr_workers)
        return ReadOptions(ocr=ocr)

    def access_rules(self) -> AccessRules:
        """Who may read which document: the rules of ``index.access_file`` (unset: everyone reads all).

        Raises:
            index.access.AccessFileError: the file cannot be read or a line is malformed (one line naming it).
        """
        from index.access import load_access_rules

        return load_access_rules(self.index.access_file)

    def chunking(self) -> ChunkingConfig:
        """How documents are cut into passages (``index.chunk_max_chars``; the rest are the defaults)."""
        from index.chunking import ChunkingConfig

        return ChunkingConfig(max_chars=self.index.chunk_max_chars)


def _variable(loc: tuple) -> str:
    """``("retrieval", "top_k")`` -> ``invalid setting top_k (ASSISTANT_TOP_K or ASSISTANT_RETRIEVAL__TOP_K)``; a setting without
    a flat name (eval's) by its grouped name: ``invalid setting eval.fail_under (ASSISTANT_EVAL__FAIL_UNDER)``."""
    names = [str(part) for part in loc if not isinstance(part, int)]
    if len(names) >= 2 and names[0] in GROUPS:
        grouped, *flat = variables(names[0], names[1])
        label = flat[0][len(ENV_PREFIX) :].lower() if flat else ".".join(names[:2])
        return f"invalid setting {label} ({' or '.join([*flat, grouped])})"
    return f"invalid setting {'.'.join(names)} ({ENV_PREFIX}{'__'.join(names).upper()})"


def _takes(loc: tuple) -> str:
    """What the setting at ``loc`` takes: its description, and for lists the accepted forms."""
    model, field = Settings, None
    for part in loc:
        if isinstance(part, int) or model is None:
            break
        field = model.model_fields.get(str(part))
        if field is None:
            return ""
        model = field.annotation if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel) else None
    if field is None:
        return ""
    text = (field.description or "").rstrip(".")
    if any(m is NoDecode for m in field.metadata):
        text += f"; give {LIST_FORMS}"
    elif field.annotation is not None and getattr(field.annotation, "__origin__", None) is dict:
        text += "; give a JSON object"
    return f" It takes: {text}." if text else ""


def _unknown_variables(environ: dict[str, str]) -> str | None:
    """A one-line complaint about the first ``ASSISTANT_*`` variable that is no setting (None if all are)."""
    known = {variable[len(ENV_PREFIX) :] for group, model in GROUPS.items() for name in model.model_fields for variable in variables(group, name)}
    for key in sorted(environ):
        name = key.upper()[len(ENV_PREFIX) :]
        if not key.upper().startswith(ENV_PREFIX) or name in known:
            continue
        if name.lower() in REMOVED:
            return f"{key} is no longer a setting: {REMOVED[name.lower()]}."
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = f" (did you mean {ENV_PREFIX}{close[0]}?)" if close else ""
        return f"{key} is not a setting{hint}; the settings are listed in docs/configuration.md."
    return None


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Read :class:`Settings` from the environment, ``overrides`` (keyword values, None = unset) on top.

    Args:
        environ: The environment to check for unknown ``ASSISTANT_*`` variables (default ``os.environ``;
            the values themselves are read by pydantic-settings from ``os.environ``).

    Raises:
        ConfigError: one line naming the first bad variable, what is wrong, and what it takes;
            also for an ``ASSISTANT_*`` variable that is not (or no longer) a setting.
    """
    environ = dict(os.environ if environ is None else environ)
    problem = _unknown_variables(environ)
    if problem:
        raise ConfigError(problem)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as err:
        first = err.errors()[0]
        loc = tuple(first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        given = first.get("input")
        shown = f" (got {given!r})" if isinstance(given, (str, int, float)) and (given == "" or str(given) not in msg) else ""
        raise ConfigError(f"{_variable(loc)}: {msg}{shown}.{_takes(loc)}") from None
