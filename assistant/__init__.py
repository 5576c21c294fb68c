"""Question -> retrieval -> extractive answer with citations.

Public API::

    from assistant import Assistant, Settings
    assistant = Assistant.from_settings(Settings())
    answer = assistant.ask("Who is Japan's chief negotiator?")
    print(answer.text, [c.to_dict() for c in answer.citations])

Heavy imports (torch, chromadb) happen only when these names are used. ``ui/`` (the chat,
the server and the CLI) imports only the names listed here (tests/test_layers.py checks it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

_WHERE = {
    # the answer path
    "Assistant": "assistant.core",
    "clean_question": "assistant.questions",
    "history_problem": "assistant.questions",
    "Settings": "assistant.settings",
    "index_documents": "assistant.indexing",
    "load_settings": "assistant.settings",
    # the data types and their one JSON schema
    "Answer": "assistant.types",
    "Citation": "assistant.types",
    "AnswerOut": "assistant.schema",
    "CitationOut": "assistant.schema",
    "ANSWER_MARKER": "assistant.markers",
    # errors (one base class: AssistantError)
    "AssistantError": "assistant.errors",
    "ConfigError": "assistant.errors",
    "EvalError": "assistant.errors",
    "FeedbackError": "assistant.errors",
    "QuestionError": "assistant.errors",
    "ServerError": "assistant.errors",
    "UnknownDocumentError": "assistant.errors",
    # who is asking (readers' groups, bearer tokens)
    "AccessError": "assistant.access",
    "EVERYONE": "assistant.access",
    "TokenStore": "assistant.access",
    "parse_groups_header": "assistant.access",
    "reader_groups": "assistant.access",
    # feedback on answers
    "FeedbackRecord": "assistant.feedback",
    "FeedbackStore": "assistant.feedback",
    "MAX_COMMENT_CHARS": "assistant.feedback",
    "VERDICTS": "assistant.feedback",
    "export_questions": "assistant.feedback",
    "open_feedback_store": "assistant.feedback",
    # evaluation runs
    "HIGHER_IS_BETTER": "assistant.evaluation",
    "check_thresholds": "assistant.evaluation",
    "parse_threshold": "assistant.evaluation",
    "evaluate_file": "assistant.evaluation.question_sets",
    "print_overview": "assistant.evaluation.report",
    "print_report": "assistant.evaluation.report",
    "write_html": "assistant.evaluation.report",
    "stdout_console": "assistant.terminal",
}
"""Public name -> the module defining it (imported on first use)."""

__all__ = sorted(_WHERE)

if TYPE_CHECKING:
    from assistant.access import EVERYONE, AccessError, TokenStore, parse_groups_header, reader_groups
    from assistant.core import Assistant
    from assistant.questions import clean_question, history_problem
    from assistant.errors import AssistantError, ConfigError, EvalError, FeedbackError, QuestionError, ServerError, UnknownDocumentError
    from assistant.evaluation.report import print_overview, print_report, write_html
    from assistant.evaluation import HIGHER_IS_BETTER, check_thresholds, parse_threshold
    from assistant.indexing import index_documents
    from assistant.feedback import MAX_COMMENT_CHARS, VERDICTS, FeedbackRecord, FeedbackStore, export_questions, open_feedback_store
    from assistant.markers import ANSWER_MARKER
    from assistant.evaluation.question_sets import evaluate_file
    from assistant.schema import AnswerOut, CitationOut
    from assistant.settings import Settings, load_settings
    from assistant.terminal import stdout_console
    from assistant.types import Answer, Citation


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
