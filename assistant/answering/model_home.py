"""One home per fitted model: a folder of ``assistant/models/`` holding its weights, a
``config.json`` (fitted weights, fusion, calibration, threshold, SHA-256, provenance) and its
``MODEL_CARD.md``, whose "Fitted values" section is generated from the config (so the card
cannot drift from the numbers).

The fit scripts write all three with :func:`write_home`; the models read their config with
:func:`read_config`: :mod:`~assistant.answering.answerability` (``answerability/``),
:mod:`~assistant.answering.support` (``support/``) and :mod:`~assistant.answering.reader`
(``reader/``, beside ``reader-int8.onnx``). Nothing fitted is pasted into Python.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
"""``assistant/models/``: one folder per fitted model."""

CONFIG = "config.json"
CARD = "MODEL_CARD.md"

_BEGIN = "<!-- fitted values: generated from config.json by assistant/answering/model_home.py; do not edit -->"
_END = "<!-- end of fitted values -->"


def home(name: str) -> Path:
    """The folder of the model ``name`` (``"reader"``, ``"answerability"``, ``"support"``)."""
    return MODELS_DIR / name


def read_config(folder: Path) -> dict:
    """The parsed ``config.json`` of a model folder (or of a config file's path).

    Raises:
        OSError: the file is missing or unreadable. ValueError: it is not JSON (the models turn
            both into one :class:`~index.errors.ModelError` line naming the file and the fit script).
    """
    path = Path(folder)
    path = path / CONFIG if path.is_dir() else path
    return json.loads(path.read_text(encoding="utf-8"))


@contextmanager
def loading(what: str, path: Path, fit_script: str) -> Iterator[None]:
    """Turn any failure to read or check a fitted head (``OSError``, ``ValueError``,
    ``KeyError``, ``TypeError``) into one :class:`~index.errors.ModelError` line naming the
    model, its file and the script that refits it.

    Raises:
        ModelError: "Cannot load the {what} {path}: {reason}. Restore the file ... or refit it with: python {fit_script}".
    """
    from index.errors import ModelError

    try:
        yield
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelError(
            f"Cannot load the {what} {path}: {err}. Restore the file from the repository or refit it with: python {fit_script}"
        ) from None


def check_sha256(recorded: str | None, actual: str) -> None:
    """Raise ``ValueError`` when a model's content does not match the SHA-256 its file records."""
    if recorded != actual:
        raise ValueError(f"its weights do not match the SHA-256 it records (expected {recorded}, got {actual})")


def fitted_values(config: dict) -> str:
    """The card's "Fitted values" section: every number of ``config`` but its provenance
    (``fitted``, ``measured_on_report``), one Markdown table row per value, in the config's order."""
    rows = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        elif isinstance(value, (str, int, float)):
            rows.append((prefix, str(value)))
        elif isinstance(value, list) and value and all(isinstance(v, (int, float, str)) for v in value):
            rows.append((prefix, ", ".join(str(v) for v in value)))
        else:
            rows.append((prefix, json.dumps(value)))

    walk("", {k: v for k, v in config.items() if k not in ("fitted", "measured_on_report")})
    table = "\n".join(f"| `{k}` | {v} |" for k, v in rows)
    return f"{_BEGIN}\n## Fitted values\n\nFrom `config.json`:\n\n| value | |\n|---|---|\n{table}\n{_END}"


def card_with_values(card: str, config: dict) -> str:
    """``card`` with its generated section replaced by :func:`fitted_values` (appended if absent)."""
    block = fitted_values(config)
    if _BEGIN in card and _END in card:
        head, rest = card.split(_BEGIN, 1)
        return head + block + rest.split(_END, 1)[1]
    return card.rstrip("\n") + "\n\n" + block + "\n"


def write_home(folder: Path, config: dict, title: str | None = None) -> None:
    """Write a model's ``config.json`` and the generated section of its ``MODEL_CARD.md`` (a
    new card starts with ``# title``) into ``folder`` (created); the weights, when separate
    from the config, are written by the caller beside them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG).write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    card_path = folder / CARD
    card = card_path.read_text(encoding="utf-8") if card_path.is_file() else f"# {title or folder.name}\n"
    card_path.write_text(card_with_values(card, config), encoding="utf-8")
