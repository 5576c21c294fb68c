"""Thumbs up/down with an optional comment under every answer of the chat and the widget.

The Chatbot's own like/dislike buttons rate an answer; the rating is stored at once (see
:mod:`assistant.feedback`) and a comment box appears under the rated answer (the page script,
:data:`ui.page_scripts.CHAT_JS`, moves ``#feedback-box`` there); sending a comment updates the same record. The answers that can be rated travel in a ``gr.State`` dict
``{message index: {"answer": <assistant ask --json dict>, "history": [...], "build_id": str}}``
filled by the chat's responder (:func:`rateable`); a rated answer's entry keeps its
``feedback_id``, so changing the thumb replaces the rating instead of adding another.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import gradio as gr

from assistant import FeedbackError
from assistant import MAX_COMMENT_CHARS, FeedbackRecord, FeedbackStore
from assistant import Answer
from ui.render import inert

log = logging.getLogger(__name__)

FEEDBACK_OPTIONS = ("Like", "Dislike")
"""The Chatbot's feedback buttons (a thumb up and a thumb down under each answer)."""

FEEDBACK_CSS = """
#feedback-box { gap: 2px; min-width: 0; flex: 0 0 auto !important; }
#chat #feedback-box { margin: 0 8px 8px; max-width: 92%; }
#feedback-row { gap: 6px; }
#feedback-status p { margin: 2px 0; font-size: 0.9em; opacity: 0.85; }
"""
"""Styles of the comment row and the one-line status."""


def rateable(answer: Answer, history: list[str], build_id: str | None) -> dict:
    """What the State keeps for one answer so that it can be rated later."""
    return {"answer": answer.to_dict(), "history": list(history), "build_id": build_id}


@dataclass
class FeedbackControls:
    """The components :func:`feedback_controls` made; ``outputs`` are reset by ``hidden()``."""

    rating: gr.State
    row: gr.Row
    comment: gr.Textbox
    status: gr.Markdown

    @property
    def outputs(self) -> list:
        return [self.rating, self.row, self.comment, self.status]

    @staticmethod
    def hidden() -> tuple:
        return None, gr.update(visible=False), "", gr.update(value="", visible=False)


def _status(text: str) -> dict:
    return gr.update(value=inert(text), visible=True)


def _feedback_row() -> tuple[FeedbackControls, gr.Button]:
    """The hidden comment row (textbox and send button) and status line, with the rating State."""
    rating = gr.State(None)
    with gr.Column(elem_id="feedback-box", scale=0):  # always shown (empty until a rating): the page script moves it under the rated answer
        with gr.Row(visible=False, equal_height=True, elem_id="feedback-row") as row:
            comment = gr.Textbox(
                show_label=False,
                label="Comment on this answer",
                placeholder="What was right or wrong? (optional)",
                max_lines=3,
                max_length=MAX_COMMENT_CHARS,
                scale=5,
                container=False,
                elem_id="feedback-comment",
            )
            send = gr.Button("Send comment", size="sm", scale=1, min_width=72, elem_id="feedback-send")
        status = gr.Markdown(visible=False, elem_id="feedback-status")
    return FeedbackControls(rating, row, comment, status), send


def _save(store: FeedbackStore, record: FeedbackRecord) -> str | None:
    """Save ``record``; None, or the one sentence the status line shows when it failed."""
    try:
        store.save(record)
    except FeedbackError as err:
        return str(err)
    except Exception:
        log.exception("feedback failed")
        return "Something went wrong while saving the rating; please try again."
    return None


def feedback_controls(chat: gr.Chatbot, answers: gr.State, store: FeedbackStore, client: str) -> FeedbackControls:
    """Make the comment row and status line (call inside a ``gr.Blocks``) and wire ``chat.like``.

    Args:
        chat: The Chatbot; it must show ``feedback_options=FEEDBACK_OPTIONS``.
        answers: The State of rateable answers (see the module docstring).
        store: Where ratings go. client: ``"chat"`` or ``"widget"``, kept in each record.

    Storage errors become the status line (one sentence); nothing raises.
    """
    controls, send = _feedback_row()

    def save(record: FeedbackRecord) -> str | None:
        return _save(store, record)

    def rate(kept: dict, data: gr.LikeData):
        kept = dict(kept or {})
        index = data.index if isinstance(data.index, int) else data.index[0]
        entry = kept.get(index)
        if entry is None or not isinstance(data.liked, bool):  # not an answer, or a thumb taken back
            return (*controls.hidden(), kept)
        verdict = "up" if data.liked else "down"
        record = FeedbackRecord.of_answer(
            entry["answer"], verdict, entry["history"], build_id=entry["build_id"], client=client, user=entry.get("user")
        )
        if entry.get("feedback_id"):  # rated before: the new verdict replaces the old one
            record.feedback_id = entry["feedback_id"]
        problem = save(record)
        if problem:
            return None, gr.update(visible=False), "", _status(problem), kept
        kept[index] = {**entry, "feedback_id": record.feedback_id}
        thanks = "Thanks, saved as helpful." if data.liked else "Thanks, saved as not helpful."
        return record.to_dict(), gr.update(visible=True), "", _status(f"{thanks} Add a comment if you like."), kept

    def send_comment(current: dict | None, text: str):
        if current is None:
            return controls.hidden()
        text = (text or "").strip()
        try:
            record = FeedbackRecord.from_dict({**current, "comment": text})
        except FeedbackError as err:
            return current, gr.update(visible=True), text, _status(str(err))
        problem = save(record)
        if problem:
            return current, gr.update(visible=True), text, _status(problem)
        return None, gr.update(visible=False), "", _status("Thanks, your comment was saved.")

    chat.like(rate, [answers], [*controls.outputs, answers], api_visibility="private")
    for trigger in (send.click, controls.comment.submit):
        trigger(send_comment, [controls.rating, controls.comment], controls.outputs, api_visibility="private")
    return controls
