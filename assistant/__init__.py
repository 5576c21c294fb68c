"""Question -> retrieval -> extractive answer with citations.

Public API::

    from assistant import Assistant, Settings
    assistant = Assistant.from_settings(Settings())
    answer = assistant.ask("Who is Japan's chief negotiator?")
    print(answer.text, [c.to_dict() for c in answer.citations])

Heavy imports (torch, chromadb) happen only when these names are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["Answer", "Assistant", "AssistantError", "Citation", "QuestionError", "Settings", "clean_question"]

if TYPE_CHECKING:
    from assistant.core import Assistant, clean_question
    from assistant.errors import AssistantError, QuestionError
    from assistant.settings import Settings
    from assistant.types import Answer, Citation

_WHERE = {
    "Assistant": "assistant.core",
    "clean_question": "assistant.core",
    "Settings": "assistant.settings",
    "Answer": "assistant.types",
    "Citation": "assistant.types",
    "AssistantError": "assistant.errors",
    "QuestionError": "assistant.errors",
}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
