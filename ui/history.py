"""History as callers send it to the Gradio ``/ask`` endpoint: earlier questions, Gradio chat
messages or ``[question, answer]`` pairs, turned into the earlier user questions the assistant reads."""

from __future__ import annotations

from assistant import QuestionError

HISTORY_FORMS = (
    'history must be a list of earlier questions (["Who is X?"]), of Gradio chat messages '
    '([{"role": "user", "content": "Who is X?"}, ...]) or of [question, answer] pairs'
)


def _turn_text(content) -> str | None:
    """The text of one chat turn: a string, or Gradio's content parts (``[{"type": "text", "text": ...}]``,
    ``{"text": ...}``); None for a turn without text (a file or component)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return content.get("text") if isinstance(content.get("text"), str) else None
    if isinstance(content, (list, tuple)):
        texts = [t for part in content if isinstance(part, (str, dict)) and (t := _turn_text(part)) is not None]
        return " ".join(texts) if texts else None
    return None


def user_turns(history) -> list[str]:
    """The earlier user questions in ``history``, oldest first, from any of the forms of :data:`HISTORY_FORMS`:
    strings (each an earlier question), ``{"role", "content"}`` messages (only ``role == "user"`` ones are
    questions; content a string or Gradio's content parts) or ``[question, answer]`` pairs (either may be None).

    Raises:
        QuestionError: ``history`` is none of these (the message says what to send).
    """
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        raise QuestionError(f"{HISTORY_FORMS}; got {type(history).__name__}.")
    turns = []
    for item in history:
        if isinstance(item, str):
            turns.append(item)
        elif isinstance(item, dict) and "role" in item and "content" in item:
            text = _turn_text(item["content"]) if item["role"] == "user" else None
            if text is not None:
                turns.append(text)
        elif isinstance(item, (list, tuple)) and len(item) == 2 and all(x is None or isinstance(x, (str, dict, list, tuple)) for x in item):
            text = _turn_text(item[0]) if item[0] is not None else None
            if text is not None:
                turns.append(text)
        else:
            raise QuestionError(f"{HISTORY_FORMS}; got an item {str(item)[:60]!r}.")
    return turns
