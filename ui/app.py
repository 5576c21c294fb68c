"""The Gradio chat app. It is handed an :class:`assistant.Assistant` and uses only its public API."""

from __future__ import annotations

import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from assistant import Assistant, AssistantError  # noqa: E402
from assistant import QuestionError  # noqa: E402
from assistant import FeedbackStore, open_feedback_store, reader_groups  # noqa: E402
from ui.feedback_ui import FEEDBACK_OPTIONS, feedback_controls, rateable  # noqa: E402
from ui.history import user_turns  # noqa: E402
from ui.render import answer_markdown, inert, sources_html, text_html  # noqa: E402

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


def _examples(assistant: Assistant, groups=None) -> list[str]:
    try:
        indexed = {d.doc_id for d in assistant.catalog(groups)}
    except AssistantError:
        return []
    return EXAMPLES if EXAMPLES_DOCUMENT in indexed else []


PLACEHOLDER_TITLES = 5
"""Documents named by title in the empty chat; more are counted."""


def documents_placeholder(assistant: Assistant, groups=None) -> str:
    """What the empty chat shows (HTML that Gradio also reads as Markdown, so titles and errors
    are :func:`ui.render.inert`): how many documents are indexed and the titles of the first
    :data:`PLACEHOLDER_TITLES`, or why none can be listed; with ``groups``, only the documents a
    reader in them may read."""
    try:
        records = assistant.catalog(groups)
    except AssistantError as err:
        return f"<p>{inert(str(err))}</p>"
    if not records:
        return "<p>No documents are indexed yet: run <code>assistant index PATH</code>.</p>"
    titles = [f"<i>{inert(r.title or r.doc_id)}</i>" for r in records[:PLACEHOLDER_TITLES]]
    more = len(records) - len(titles)
    names = ", ".join(titles) + (f" and {more} more" if more else "")
    count = "1 document is" if len(records) == 1 else f"{len(records)} documents are"
    return f"<p><b>{count} indexed:</b> {names}.</p><p>Ask a question; the answer quotes the documents and cites them.</p>"

CONTRAST = {
    "button_primary_background_fill": "*primary_700",
    "button_primary_background_fill_hover": "*primary_800",
    "button_primary_background_fill_dark": "*primary_700",
    "button_primary_text_color": "white",
    "body_text_color_subdued": "*neutral_600",
}
"""Theme values that give text at least WCAG AA contrast (4.5:1), as axe-core checks
(tests/test_browser_ui.py): white on orange-700 (5.2:1) for the Ask button, neutral-600 for
subdued text such as the footer (Gradio's defaults, orange-500 and neutral-400, are under 3:1)."""

THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
).set(**CONTRAST)
"""Default theme with system fonts only (nothing is fetched from a font CDN), text contrast per :data:`CONTRAST`."""

WIDGET_THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    text_size="sm",
    spacing_size="sm",
).set(chatbot_text_size="*text_md", **CONTRAST)
"""The widget's theme: :data:`THEME` with smaller text and spacing for a 320–480 px column."""


def answer_json(assistant: Assistant, question: str, history=None, documents: list[str] | None = None, groups=None) -> dict:
    """Ask and return the ``assistant ask --json`` dict; errors (a bad question, or a history in
    none of the forms of :func:`ui.history.user_turns`) become ``{"question", "error": message}``.
    ``documents``: limit the answer to these document ids (None: all); ``groups``: the reader's."""
    try:
        return assistant.ask(question, user_turns(history), documents or None, groups).to_dict()
    except AssistantError as err:
        return {"question": question, "error": str(err)}
    except Exception:  # never a traceback to the user
        log.exception("ask failed")
        return {"question": question, "error": "Something went wrong while answering; please try again."}


FULLSCREEN_LINK = '<a class="fullscreen" href="../" target="_blank" rel="noopener">Open full screen ↗</a>'
"""The widget's link to the full chat; the page script adds the widget's ``?documents=`` scope."""


ECHO_CHARS = 300
"""A refused question is shown in the chat cut to this many characters (it stays whole in the box)."""


def _echo(message: str) -> str:
    """A refused question as the chat shows it: whole if short, else its start and its length."""
    if len(message) <= ECHO_CHARS:
        return message
    return f"{message[:ECHO_CHARS]}… ({len(message):,} characters)"


def _reader(reader_of, request):
    """The reader of a Gradio event (:func:`ui.auth.reader_of`): an app built without
    ``reader_of`` (called directly from Python) reads every document; with it, an event without
    a request reads none (access fails closed)."""
    if reader_of is None:
        from ui.auth import EVERY_DOCUMENT

        return EVERY_DOCUMENT
    return reader_of(request)


def _responder(assistant: Assistant, base: str = "", reader_of=None):
    """The chat event handler shared by the full chat and the widget.

    ``respond(message, chat, asked, answers, scope)`` yields ``(box, chat, asked, sources, answers)``:
    ``box`` the question box's new text ("" once answered; the question itself when it was
    refused, so nothing is lost), ``chat`` the Chatbot's list of ``{"role", "content"}`` dicts
    (escaped HTML), ``asked`` the earlier user turns (history for follow-ups), ``sources`` the
    HTML of :func:`ui.render.sources_html`, ``answers`` the rateable answers by message index
    (see :mod:`ui.feedback_ui`); ``scope`` limits the answer to those document ids (None: all).
    With a language model configured it yields as the text streams
    in, and the sources panel appears when the answer ends. A refused question is echoed cut to
    :data:`ECHO_CHARS`. Errors become a chat message; nothing raises. ``base`` is the path from
    the page to the app's root, for the source-view links (``"../"`` in the widget).
    ``reader_of`` finds who is asking from the event's request (:func:`ui.auth.reader_of`): the
    answer comes only from the documents they may read.
    """

    def respond(
        message: str, chat: list, asked: list[str], answers: dict | None = None, scope: list[str] | None = None, request: gr.Request = None
    ):
        reader = _reader(reader_of, request)
        chat = list(chat or [])
        asked = list(asked or [])
        answers = dict(answers or {})
        message = message or ""
        user = {"role": "user", "content": text_html(message)}
        streamed = ""
        try:
            for item in assistant.ask_stream(message, asked, scope or None, reader.groups):
                if isinstance(item, str):
                    streamed += item
                    yield "", chat + [user, {"role": "assistant", "content": text_html(streamed) + " …"}], asked, gr.update(), answers
                else:
                    answer = item
        except QuestionError as err:
            refused = {"role": "user", "content": text_html(_echo(message))}
            yield message, chat + [refused, {"role": "assistant", "content": text_html(str(err))}], asked, gr.update(), answers
            return
        except AssistantError as err:
            yield message, chat + [user, {"role": "assistant", "content": text_html(str(err))}], asked, gr.update(), answers
            return
        except Exception:
            log.exception("ask failed")
            failed = {"role": "assistant", "content": "Something went wrong; please try again."}
            yield message, chat + [user, failed], asked, gr.update(), answers
            return
        chat += [user, {"role": "assistant", "content": answer_markdown(answer, base)}]
        build = assistant.build
        answers[len(chat) - 1] = {**rateable(answer, asked, build.build_id if build else None), "user": reader.user}
        yield "", chat, asked + [answer.question], sources_html(answer, base), answers

    return respond


def _clear():
    return [], [], sources_html(None), {}


TEXT_ONLY = {"render_markdown": False, "latex_delimiters": []}
"""Chatbot options: messages are the escaped HTML of :mod:`ui.render` and nothing else, so a
document's ``![x](http://...)``, ``[x](javascript:...)``, bare URLs or ``$$...$$`` show as
the characters they are (no image fetched, no live link, no formula)."""

CHAT_BUTTONS = ["copy", "copy_all"]
"""The Chatbot's toolbar: copy buttons only (Gradio's default adds an unlabelled "share" to
Hugging Face, which means nothing on an intranet)."""


def _wire_chat(
    demo, assistant, chat, box, send, reset, sources, answers, controls, limits: dict, scope=None, base: str = "", reader_of=None
) -> None:
    """Events shared by the chat and the widget: ask (limited to the document ids in the
    ``scope`` State, if given), start over, and (on every page load) the empty chat's list of
    indexed documents. Rating is wired by :func:`ui.feedback_ui.feedback_controls`. ``base``:
    the path from the page to the app's root, for source-view links (``"../"`` in the widget).
    ``sources``: the panel of the latest answer's sources, or None (the widget: each answer's
    sources are folded under it). ``reader_of``: who is asking, from the event's request."""
    respond = _responder(assistant, base, reader_of)
    if sources is None:
        full = respond

        def respond(message, chat, asked, answers=None, scope=None, request: gr.Request = None):  # noqa: F811  (without the panel)
            for box_v, chat_v, asked_v, _sources, answers_v in full(message, chat, asked, answers, scope, request):
                yield box_v, chat_v, asked_v, answers_v

    asked = gr.State([])
    inputs = [box, chat, asked, answers, scope if scope is not None else gr.State(None)]  # then the gr.Request
    panel = [sources] if sources is not None else []
    for trigger in (box.submit, send.click):
        trigger(respond, inputs, [box, chat, asked, *panel, answers], api_visibility="private", **limits)
    clear = _clear if sources is not None else (lambda: ([], [], {}))
    for trigger in (reset.click, chat.clear):
        trigger(clear, None, [chat, asked, *panel, answers], api_visibility="private").then(
            controls.hidden, None, controls.outputs, api_visibility="private"
        )
    def placeholder(request: gr.Request = None):
        return gr.update(placeholder=documents_placeholder(assistant, _reader(reader_of, request).groups))

    demo.load(placeholder, None, chat, api_visibility="private")


def _scope_from_url(demo) -> gr.State:
    """A State holding the page's ``?documents=a.md,b.md`` scope (None: all documents)."""
    scope = gr.State(None)
    scope_param = gr.Textbox(visible=False)
    demo.load(parse_scope, scope_param, scope, js=SCOPE_FROM_URL_JS, api_visibility="private", queue=False)
    return scope


def _first_placeholder(assistant: Assistant, reader_of) -> str:
    """The empty chat's text built into the page: the documents' titles without sign-in; behind
    sign-in (``reader_of`` given) nothing about the documents, since every reader gets the page
    and each sees their own list once it loads."""
    if reader_of is None:
        return documents_placeholder(assistant)
    return "<p>Ask a question; the answer quotes the documents you may read and cites them.</p>"


def build_app(assistant: Assistant, concurrency: int = 8, feedback: FeedbackStore | None = None, reader_of=None) -> gr.Blocks:
    """The chat UI: conversation on the left, sources of the latest answer on the right.

    It also exposes the named API endpoint ``/ask`` (``gradio_client``:
    ``client.predict(question, history, api_name="/ask")``) returning the JSON dict of
    :meth:`assistant.Answer.to_dict`, or ``{"question", "error"}`` for a bad question.

    Args:
        concurrency: Events answered at once (count), shared by the chat and ``/ask``; a slow
            answer holds one slot, the others keep answering.
        feedback: Where 👍/👎 ratings go (default: :func:`assistant.feedback.open_feedback_store`).
        reader_of: Who is asking, from a request (:func:`ui.auth.reader_of`); None: everyone reads everything.
    """
    limits = {"concurrency_limit": concurrency, "concurrency_id": "answer"}
    with gr.Blocks(title="Cited assistant", analytics_enabled=False) as demo:
        gr.Markdown("### Ask the documents\nAnswers quote the documents and cite the exact passage; when they do not say, the assistant says so.")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Conversation",
                    height=460,
                    sanitize_html=True,
            **TEXT_ONLY,
                    feedback_options=FEEDBACK_OPTIONS,
                    buttons=CHAT_BUTTONS,
                    placeholder=_first_placeholder(assistant, reader_of),
                    elem_id="chat",
                )
                box = gr.Textbox(label="Question", placeholder="Ask about the documents…", max_lines=4, elem_id="question")
                with gr.Row():
                    send = gr.Button("Ask", variant="primary", elem_id="ask")
                    reset = gr.Button("New conversation")
                answers = gr.State({})
                controls = feedback_controls(chat, answers, feedback or open_feedback_store(assistant.settings), "chat")
                if examples := _examples(assistant, None if reader_of is None else reader_groups(())):  # what everyone may read
                    gr.Examples(examples, inputs=box)
            with gr.Column(scale=2):
                sources = gr.HTML(sources_html(None), elem_id="sources")
        scope = _scope_from_url(demo)  # the widget's "open full screen" link carries its scope
        _wire_chat(demo, assistant, chat, box, send, reset, sources, answers, controls, limits, scope, reader_of=reader_of)

        api_q = gr.Textbox(visible=False)
        api_h = gr.JSON(visible=False)
        api_d = gr.JSON(visible=False)
        api_out = gr.JSON(visible=False)

        def ask(question: str, history: list | None = None, documents: list[str] | None = None, request: gr.Request = None) -> dict:
            """The ``assistant ask --json`` dict for ``question``; ``history``: earlier questions, Gradio chat
            messages or [question, answer] pairs (see :func:`ui.history.user_turns`); ``documents``: answer only
            from these document ids, None or empty for all (of those the caller may read)."""
            return answer_json(assistant, question, history, documents, _reader(reader_of, request).groups)

        gr.Button(visible=False).click(ask, [api_q, api_h, api_d], api_out, api_name="ask", **limits)
    _quiet_input_errors(demo)
    return demo


def _quiet_input_errors(blocks: gr.Blocks) -> None:
    """A call with too few input values (``{"data": []}`` to ``/gradio_api/call/ask``) is a
    client mistake: the caller gets an error event saying what the endpoint takes, and the log
    gets no traceback (Gradio prints one for any other exception)."""
    check = blocks.validate_inputs

    def validate_inputs(block_fn, inputs) -> None:
        try:
            check(block_fn, inputs)
        except ValueError:
            names = ", ".join(getattr(b, "label", None) or type(b).__name__ for b in block_fn.inputs)
            took = "(question, history, documents)" if block_fn.name == "ask" else f"{len(block_fn.inputs)} values ({names})"
            raise gr.Error(f"This endpoint takes {took}; got {len(inputs)} value(s).", print_exception=False) from None

    blocks.validate_inputs = validate_inputs


def build_widget(assistant: Assistant, concurrency: int = 8, feedback: FeedbackStore | None = None, reader_of=None) -> gr.Blocks:
    """The compact chat for embedding in other pages (served at ``/widget``).

    One column laid out for a side panel (320-480 px wide, 400-640 px tall; works at 360 px): an
    "open full screen" link (the full chat, same scope), the conversation taking the height left,
    and a question box with an Ask button. Each answer's sources fold out under it. It has no
    API endpoint of its own.
    ``/widget/?documents=a.md,b.md`` (what ``embed.js`` makes of ``data-documents``) answers
    only from those document ids.

    Args:
        concurrency: Questions answered at once (count).
        feedback: Where 👍/👎 ratings go (default: :func:`assistant.feedback.open_feedback_store`).
    """
    limits = {"concurrency_limit": concurrency, "concurrency_id": "answer"}
    with gr.Blocks(title="Ask the documents", analytics_enabled=False, fill_width=True, fill_height=True) as widget:
        gr.HTML(FULLSCREEN_LINK, elem_id="widget-bar", padding=False)
        chat = gr.Chatbot(
            show_label=False,
            label="Conversation",
            height="100%",
            scale=1,
            sanitize_html=True,
            **TEXT_ONLY,
            feedback_options=FEEDBACK_OPTIONS,
            buttons=CHAT_BUTTONS,
            autoscroll=False,  # WIDGET_JS keeps the start of the latest answer in view instead
            placeholder=_first_placeholder(assistant, reader_of),
            elem_id="chat",
        )
        with gr.Row(equal_height=True):
            box = gr.Textbox(
                show_label=False, label="Question", placeholder="Ask about the documents…", max_lines=3, scale=5, container=False, elem_id="question"
            )
            send = gr.Button("Ask", variant="primary", scale=1, min_width=64, elem_id="ask")
            reset = gr.Button("New", size="sm", scale=0, min_width=52, elem_id="reset")
        answers = gr.State({})
        controls = feedback_controls(chat, answers, feedback or open_feedback_store(assistant.settings), "widget")
        scope = _scope_from_url(widget)
        _wire_chat(widget, assistant, chat, box, send, reset, None, answers, controls, limits, scope, base="../", reader_of=reader_of)  # served at /widget/
    _quiet_input_errors(widget)
    return widget


SCOPE_FROM_URL_JS = "() => new URLSearchParams(window.location.search).get('documents') || ''"
"""Reads the widget page's ``?documents=`` parameter in the browser (the widget's own URL)."""


def parse_scope(value: str | None) -> list[str] | None:
    """``"a.md, b.md"`` -> ``["a.md", "b.md"]``; empty -> None (all documents)."""
    ids = [part.strip() for part in (value or "").split(",") if part.strip()]
    return ids or None
