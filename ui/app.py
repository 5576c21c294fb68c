"""The Gradio chat app. It is handed an :class:`assistant.Assistant` and uses only its public API."""

from __future__ import annotations

import html
import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from assistant import Assistant, AssistantError  # noqa: E402
from ui.render import answer_markdown, sources_html  # noqa: E402

log = logging.getLogger(__name__)

EXAMPLES = [
    "Who is Japan's chief negotiator?",
    "How much did Colby want Japan to spend on defence?",
    "Who is Yuki Tatsumi?",
    "What did Ishiba say about dependence on the US?",
]
"""Example questions shown under the chat, when the seed article (:data:`EXAMPLES_DOCUMENT`) is indexed."""

EXAMPLES_DOCUMENT = "japan-us-reset.txt"
"""The document :data:`EXAMPLES` are about; an index of other documents shows no examples."""


def _examples(assistant: Assistant) -> list[str]:
    try:
        indexed = {d.doc_id for d in assistant.catalog()}
    except AssistantError:
        return []
    return EXAMPLES if EXAMPLES_DOCUMENT in indexed else []

THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
)
"""Default theme with system fonts only: nothing is fetched from a font CDN."""

WIDGET_THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    text_size="sm",
    spacing_size="sm",
).set(chatbot_text_size="*text_md")
"""The widget's theme: :data:`THEME` with smaller text and spacing for a 320–480 px column."""


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
    from assistant.errors import QuestionError

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


def answer_json(assistant: Assistant, question: str, history=None) -> dict:
    """Ask and return the ``assistant ask --json`` dict; errors (a bad question or a history
    in none of the forms of :func:`user_turns`) become ``{"question", "error": message}``."""
    try:
        return assistant.ask(question, user_turns(history)).to_dict()
    except AssistantError as err:
        return {"question": question, "error": str(err)}
    except Exception:  # never a traceback to the user
        log.exception("ask failed")
        return {"question": question, "error": "Something went wrong while answering; please try again."}


WIDGET_CSS = """
.gradio-container, .gradio-container .main.fillable { padding: 4px 6px !important; }
#sources { max-height: 250px; overflow-y: auto !important; }
#sources h4 { margin: 2px 0 6px; }
#sources .sources { font-size: 13px; }
"""
"""Extra styles of the compact widget: little padding, a scrolling sources panel."""

WIDGET_JS = """
() => {
  // Keep the latest question and the start of its answer in view (the chat would scroll to
  // the end of a long answer), and scroll the sources panel to the first highlighted sentence.
  const scroller = (el) => {
    for (let e = el && el.parentElement; e; e = e.parentElement) {
      if (e.scrollHeight > e.clientHeight && /(auto|scroll)/.test(getComputedStyle(e).overflowY)) return e;
    }
    return null;
  };
  const reveal = (el, margin) => {
    const box = scroller(el);
    if (box) box.scrollTop += el.getBoundingClientRect().top - box.getBoundingClientRect().top - margin;
  };
  let rows = 0, mark = null;
  new MutationObserver(() => {
    const all = document.querySelectorAll("#chat .message-row");
    if (all.length !== rows) {
      rows = all.length;
      const questions = document.querySelectorAll("#chat .message-row.user-row");
      if (rows > 1 && questions.length) reveal(questions[questions.length - 1], 4);
    }
    const first = document.querySelector("#sources mark");
    if (first && first !== mark) {
      mark = first;
      reveal(first, 56);
    }
  }).observe(document.body, { childList: true, subtree: true });
}
"""
"""Page script of the widget (runs in the widget's own page, loads nothing)."""


def _responder(assistant: Assistant):
    """The chat event handler shared by the full chat and the widget.

    ``respond(message, chat, asked)`` yields ``("", chat, asked, sources)``: ``chat`` is the
    Chatbot's list of ``{"role", "content"}`` dicts (escaped HTML), ``asked`` the earlier user
    turns (history for follow-ups), ``sources`` the HTML of :func:`ui.render.sources_html`.
    With a language model configured it yields as the text streams in, and the sources panel
    appears when the answer ends. Errors become a chat message; nothing raises.
    """

    def respond(message: str, chat: list, asked: list[str]):
        chat = list(chat or [])
        asked = list(asked or [])
        user = {"role": "user", "content": html.escape(message or "")}
        streamed = ""
        try:
            for item in assistant.ask_stream(message or "", asked):
                if isinstance(item, str):
                    streamed += item
                    yield "", chat + [user, {"role": "assistant", "content": html.escape(streamed) + " …"}], asked, gr.update()
                else:
                    answer = item
        except AssistantError as err:
            yield "", chat + [user, {"role": "assistant", "content": html.escape(str(err))}], asked, gr.update()
            return
        except Exception:
            log.exception("ask failed")
            yield "", chat + [user, {"role": "assistant", "content": "Something went wrong; please try again."}], asked, gr.update()
            return
        chat += [user, {"role": "assistant", "content": answer_markdown(answer)}]
        yield "", chat, asked + [answer.question], sources_html(answer)

    return respond


def _clear():
    return [], [], sources_html(None)


def build_app(assistant: Assistant, concurrency: int = 8) -> gr.Blocks:
    """The chat UI: conversation on the left, sources of the latest answer on the right.

    It also exposes the named API endpoint ``/ask`` (``gradio_client``:
    ``client.predict(question, history, api_name="/ask")``) returning the JSON dict of
    :meth:`assistant.Answer.to_dict`, or ``{"question", "error"}`` for a bad question.

    Args:
        concurrency: Events answered at once (count), shared by the chat and ``/ask``; a slow
            answer holds one slot, the others keep answering.
    """
    respond = _responder(assistant)
    limits = {"concurrency_limit": concurrency, "concurrency_id": "answer"}
    with gr.Blocks(title="Cited assistant", analytics_enabled=False) as demo:
        gr.Markdown("### Ask the documents\nAnswers quote the documents and cite the exact passage; when they do not say, the assistant says so.")
        asked = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Conversation", height=460, sanitize_html=True, feedback_options=None, elem_id="chat")
                box = gr.Textbox(label="Question", placeholder="Ask about the documents…", max_lines=4, elem_id="question")
                with gr.Row():
                    send = gr.Button("Ask", variant="primary", elem_id="ask")
                    reset = gr.Button("New conversation")
                if examples := _examples(assistant):
                    gr.Examples(examples, inputs=box)
            with gr.Column(scale=2):
                sources = gr.HTML(sources_html(None), elem_id="sources")
        for trigger in (box.submit, send.click):
            trigger(respond, [box, chat, asked], [box, chat, asked, sources], api_visibility="private", **limits)
        reset.click(_clear, None, [chat, asked, sources], api_visibility="private")

        api_q = gr.Textbox(visible=False)
        api_h = gr.JSON(visible=False)
        api_out = gr.JSON(visible=False)

        def ask(question: str, history: list | None = None) -> dict:
            """The ``assistant ask --json`` dict for ``question``; ``history``: earlier questions, or
            Gradio chat messages, or [question, answer] pairs (see :func:`user_turns`)."""
            return answer_json(assistant, question, history)

        gr.Button(visible=False).click(ask, [api_q, api_h], api_out, api_name="ask", **limits)
    return demo


def build_widget(assistant: Assistant, concurrency: int = 8) -> gr.Blocks:
    """The compact chat for embedding in other pages (served at ``/widget``).

    One column, no header and no footer: the conversation, a question box with an Ask button,
    and the sources of the latest answer below (scrolling). It has no API endpoint of its own.

    Args:
        concurrency: Questions answered at once (count).
    """
    respond = _responder(assistant)
    limits = {"concurrency_limit": concurrency, "concurrency_id": "answer"}
    with gr.Blocks(title="Ask the documents", analytics_enabled=False, fill_width=True) as widget:
        asked = gr.State([])
        chat = gr.Chatbot(
            show_label=False,
            height=280,
            sanitize_html=True,
            feedback_options=None,
            autoscroll=False,  # WIDGET_JS keeps the start of the latest answer in view instead
            placeholder="Ask a question; the answer quotes the documents and cites them.",
            elem_id="chat",
        )
        with gr.Row(equal_height=True):
            box = gr.Textbox(
                show_label=False, placeholder="Ask about the documents…", max_lines=3, scale=5, container=False, elem_id="question"
            )
            send = gr.Button("Ask", variant="primary", scale=1, min_width=64, elem_id="ask")
            reset = gr.Button("New", size="sm", scale=0, min_width=52, elem_id="reset")
        sources = gr.HTML(sources_html(None), elem_id="sources")
        for trigger in (box.submit, send.click):
            trigger(respond, [box, chat, asked], [box, chat, asked, sources], api_visibility="private", **limits)
        reset.click(_clear, None, [chat, asked, sources], api_visibility="private")
    return widget
