"""Optional generative answers: any LangChain chat model writes, our code verifies the citations.

Only imported when ``ASSISTANT_LLM`` is set (``settings.llm.model``), so the default extractive
assistant loads no LLM library. The flow for one question:

1. The retrieved passages are numbered ``[1]..[k]`` in a prompt (:data:`SYSTEM_PROMPT`) that
   tells the model to answer only from them, to cite ``[n]`` after every sentence, and to
   reply :data:`REFUSAL` when they do not contain the answer.
2. The reply is verified before anything is shown (:func:`verify`): markers pointing to no
   passage are removed; a sentence left without a citation is flagged ``uncited``; a
   sentence whose cited passages do not support it is flagged ``unsupported``; the refusal
   phrase becomes ``abstained: true``. Citations are renumbered 1..N in order of first mention.
3. If the model fails or does not finish within ``settings.llm.timeout`` seconds,
   :class:`GenerativeAnswerer` gives the extractive answer with a one-line notice (the user
   never gets an error).

Follow-up questions are rewritten into standalone ones by the model (:meth:`LanguageModel.rewrite`).
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.answering.answerer import AnswerContext, Draft, ExtractiveAnswerer, Reply
from assistant.retrieval.lexical import TOKEN_PATTERN
from assistant.markers import escape_footnotes
from assistant.retrieval.retriever import RetrievedPassage
from assistant.types import Citation, Flag
from assistant.tuning import SUPPORT_THRESHOLD

REFUSAL = "The documents do not answer this question."
"""The fixed phrase the model must answer with when the passages do not contain the answer
(the same words as the extractive assistant's abstention)."""

SYSTEM_PROMPT = """You answer questions using ONLY the numbered passages the user gives you.
Rules:
1. Use only facts stated in the passages; no outside knowledge, no guesses.
2. End every sentence with the number of the passage that supports it, like this: "Akazawa leads the talks [2]."
   Use several numbers if needed: [1][3]. Never cite a number that is not listed.
3. If the passages do not contain the answer, reply exactly: {refusal}
4. Be brief: at most three sentences."""

REWRITE_PROMPT = """Rewrite the user's last question so that it can be understood without the conversation:
replace pronouns and references ("she", "that day", "there") with what they refer to.
Reply with the rewritten question only."""


_MARKERS = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_LEADING_MARKERS = re.compile(r"^(\s*\[\d+(?:\s*,\s*\d+)*\])+")


def format_passages(retrieved: Sequence[RetrievedPassage]) -> str:
    """The user message's passage block: ``[n] title (p. 4 / lines a–b)`` then the passage text,
    its own bracketed footnote numbers written as superscripts (see :mod:`assistant.markers`)."""
    blocks = []
    for n, r in enumerate(retrieved, start=1):
        p = r.passage
        blocks.append(f"[{n}] {p.title} ({p.locator()})\n{escape_footnotes(' '.join(p.text.split()))}")
    return "\n\n".join(blocks)


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def is_refusal(text: str) -> bool:
    """Whether the reply is (or contains) :data:`REFUSAL`, ignoring case, punctuation and markers."""
    return _fold(REFUSAL) in _fold(_MARKERS.sub(" ", text))


def split_claims(text: str) -> list[str]:
    """The reply's sentences, each with the ``[n]`` markers that follow it (a marker the
    splitter put at the start of the next sentence is moved back)."""
    import sentencex

    pieces = [p.strip() for p in sentencex.segment("en", text.strip()) if p.strip()]
    claims: list[str] = []
    for piece in pieces:
        lead = _LEADING_MARKERS.match(piece)
        if lead and claims:
            claims[-1] += " " + lead.group().strip()
            piece = piece[lead.end() :].strip()
        if piece:
            claims.append(piece)
    return claims


@dataclass(frozen=True)
class Verified:
    """A verified reply: text with renumbered markers, citations, flags, and whether it refused."""

    text: str
    citations: tuple[Citation, ...]
    flags: tuple[Flag, ...]
    abstained: bool


class SupportScorer:
    """Scores how well a passage supports a claim (see :data:`SUPPORT_THRESHOLD`)."""

    def __init__(self, embedder) -> None:
        import bm25s
        import Stemmer

        self._embedder = embedder
        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")

    def terms(self, text: str) -> set[str]:
        """Content words of ``text``, stemmed, English stop words removed."""
        return set(
            self._bm25s.tokenize([text], token_pattern=TOKEN_PATTERN, stopwords="en", stemmer=self._stemmer, return_ids=False,
                                 show_progress=False)[0]
        )

    def best(self, claim: str, claim_embedding: np.ndarray, r: RetrievedPassage, sentence_embeddings: np.ndarray):
        """``(score, span)`` of the passage sentence that best supports ``claim``."""
        words = self.terms(claim)
        p = r.passage
        best = (-1.0, r.best.span)
        for (start, end), emb in zip(p.sentences, sentence_embeddings):
            text = p.text[start - p.start : end - p.start]
            overlap = len(words & self.terms(text)) / len(words) if words else 0.0
            score = 0.5 * float(emb @ claim_embedding) + 0.5 * overlap
            if score > best[0]:
                best = (score, (start, end))
        return best

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._embedder.embed_query(list(texts))


def verify(
    reply: str,
    retrieved: Sequence[RetrievedPassage],
    scorer: SupportScorer,
    sentence_embeddings: Sequence[np.ndarray],
    threshold: float = SUPPORT_THRESHOLD,
) -> Verified:
    """Check a model reply against the passages it was given (numbered 1..len(retrieved)).

    ``sentence_embeddings``: one ``[n_sentences, dim]`` array per retrieved passage, in order
    (the stored ones: ``PassageRetriever.stored_embeddings``), so nothing is embedded twice.

    Returns:
        :class:`Verified`. Markers to unknown passages are dropped; a sentence without any
        valid marker is flagged ``uncited``; a sentence none of whose cited passages supports
        it (best sentence score < ``threshold``) is flagged ``unsupported``. Flagged sentences
        stay in the text (the UI marks them) so nothing the model said is hidden.
    """
    if is_refusal(reply) or not reply.strip():
        return Verified(REFUSAL, (), (), True)
    claims = split_claims(reply)
    parsed = []
    for claim in claims:
        cited = [int(n) for group in _MARKERS.findall(claim) for n in re.split(r"\s*,\s*", group)]
        valid = list(dict.fromkeys(n for n in cited if 1 <= n <= len(retrieved)))
        parsed.append((_MARKERS.sub("", claim).strip(), valid))
    texts = [c for c, _ in parsed]
    claim_embs = scorer.embed(texts) if texts else np.zeros((0, 1))
    numbers: dict[int, int] = {}
    support: dict[int, list[tuple[float, tuple[int, int]]]] = {}
    flags: list[Flag] = []
    out = []
    sentence_embs = list(sentence_embeddings)
    for i, ((claim, valid), emb) in enumerate(zip(parsed, claim_embs)):
        if not valid:
            flags.append(Flag(i, claim, "uncited", "no citation"))
            out.append(claim)
            continue
        scored = [(n, *scorer.best(claim, emb, retrieved[n - 1], sentence_embs[n - 1])) for n in valid]
        if max(s for _, s, _ in scored) < threshold:
            shown = ", ".join(f"[{n}]" for n in valid)
            flags.append(Flag(i, claim, "unsupported", f"not supported by {shown} (score {max(s for _, s, _ in scored):.2f})"))
        markers = ""
        for n, score, span in scored:
            new = numbers.setdefault(n, len(numbers) + 1)
            support.setdefault(n, []).append((score, span))
            markers += f"[{new}]"
        body, end = (claim[:-1], claim[-1]) if claim[-1:] in ".!?" else (claim, "")
        out.append(f"{body} {markers}{end}")
    citations = tuple(
        Citation(
            n=new,
            passage=retrieved[n - 1].passage,
            highlights=tuple(sorted({span for _, span in support[n]})),
            score=max(score for score, _ in support[n]),
        )
        for n, new in sorted(numbers.items(), key=lambda kv: kv[1])
    )
    return Verified(" ".join(out), citations, tuple(flags), False)


class GenerationFailed(Exception):
    """The model raised, or did not finish in time; the message is the one-line notice."""


class LanguageModel:
    """Asks a LangChain chat model, streaming, within a deadline.

    Args:
        model: Any LangChain ``BaseChatModel`` (from :func:`build_chat_model`, or a fake in tests).
        timeout: Seconds the whole reply may take (``settings.llm.timeout``).
        name: Shown in notices ("ollama:llama3.1").
    """

    def __init__(self, model, timeout: float, name: str) -> None:
        self.model = model
        self.timeout = timeout
        self.name = name

    def messages(self, question: str, retrieved: Sequence[RetrievedPassage]) -> list[tuple[str, str]]:
        """The chat messages: the system rules, then the passages and the question."""
        user = f"Passages:\n\n{format_passages(retrieved)}\n\nQuestion: {question}"
        return [("system", SYSTEM_PROMPT.format(refusal=REFUSAL)), ("human", user)]

    def stream(self, messages) -> Iterator[str]:
        """Yield the reply's text chunks as they arrive.

        Raises:
            GenerationFailed: the model raised, or the reply was not complete within ``timeout`` s.
        """
        chunks: queue.Queue = queue.Queue()
        done = object()

        def work() -> None:
            try:
                for chunk in self.model.stream(messages):
                    text = chunk.content if isinstance(chunk.content, str) else "".join(
                        part.get("text", "") for part in chunk.content if isinstance(part, dict)
                    )
                    if text:
                        chunks.put(text)
                chunks.put(done)
            except Exception as err:  # any provider error means: fall back
                chunks.put(err)

        threading.Thread(target=work, daemon=True, name="llm-stream").start()
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                item = chunks.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise GenerationFailed(f"{self.name} did not answer within {self.timeout:g} s") from None
            if item is done:
                return
            if isinstance(item, Exception):
                raise GenerationFailed(f"{self.name} failed: {str(item).splitlines()[0][:120] or type(item).__name__}")
            yield item

    def complete(self, messages) -> str:
        """The whole reply (see :meth:`stream` for errors)."""
        return "".join(self.stream(messages))

    def rewrite(self, question: str, history: Sequence[str]) -> str:
        """``question`` made standalone using ``history`` (earlier user turns, oldest first).

        Raises:
            GenerationFailed: as :meth:`stream`.
        """
        turns = "\n".join(f"User: {h}" for h in history)
        reply = self.complete([("system", REWRITE_PROMPT), ("human", f"{turns}\nUser: {question}")])
        rewritten = " ".join(reply.split()).strip('"“” ')
        return rewritten if 3 <= len(rewritten) <= 1000 else question


class GenerativeAnswerer:
    """The generative :class:`~assistant.answering.answerer.Answerer`: a language model writes the answer
    from the retrieved passages, every sentence is verified against them (:func:`verify`), and
    the quotes of ``quotes`` are the answer when it cannot (a refusal, a failure, a timeout).

    Args:
        model: The language model (:class:`LanguageModel`). quotes: The extractive answerer
            that decides first whether there is anything to answer from, and is the fallback.
        support: Scores a claim against a passage (:class:`SupportScorer`).
    """

    def __init__(self, model: LanguageModel, quotes: ExtractiveAnswerer, support: SupportScorer) -> None:
        self.model = model
        self.quotes = quotes
        self.support = support
        self.name = model.name

    def rewrite(self, question: str, history: Sequence[str]) -> tuple[str | None, str | None]:
        """``(the follow-up made standalone by the model, None)``, or ``(None, notice)`` if it failed."""
        try:
            return self.model.rewrite(question, history), None
        except GenerationFailed as err:
            return None, f"{err}; the follow-up was read without the language model."

    def reply(self, question: str, retrieved: Sequence[RetrievedPassage], context: AnswerContext, history: Sequence[str]) -> Iterator[str | Reply]:
        """The model's text chunks as they come, then the verified :class:`Reply` (or the quotes, with a notice)."""
        selection = self.quotes.select(question, retrieved, context.vocabulary, history, context.lexicon)
        if self.quotes.refuse_before_generation(selection):
            yield Reply(self.quotes.compose(selection))
            return
        try:
            chunks = []
            for chunk in self.model.stream(self.model.messages(question, retrieved)):
                chunks.append(chunk)
                yield chunk
        except GenerationFailed as err:
            yield Reply(self.quotes.compose(selection), notice=f"{err}; showing the quoted sentences instead.")
            return
        stored, _ = context.stored_embeddings([r.passage for r in retrieved])
        verified = verify("".join(chunks), retrieved, self.support, [stored[r.passage.passage_id] for r in retrieved])
        if verified.abstained:
            refused = replace(selection, quotes=(), abstain_reason="the language model found no answer in the passages")
            yield Reply(self.quotes.compose(refused), self.name, verified.flags)
        else:
            yield Reply(Draft(verified.text, verified.citations, False, ()), self.name, verified.flags)


def build_chat_model(spec: str, base_url: str | None, timeout: float, api_key: str | None = None):
    """A LangChain chat model from ``"provider:model"`` (``ollama:llama3.1``, ``openai:gpt-4o-mini``)
    via ``langchain.chat_models.init_chat_model``; the provider package is an optional extra.

    Raises:
        LLMConfigError: ``langchain`` or the provider package is missing, or the spec is invalid.
    """
    from assistant.errors import LLMConfigError

    try:
        from langchain.chat_models import init_chat_model
    except ImportError:
        raise LLMConfigError(
            "ASSISTANT_LLM needs LangChain's model loader: pip install 'cited-assistant[llm]' "
            "(and the provider, e.g. '[ollama]' or '[openai]')."
        ) from None
    kwargs: dict = {"timeout": timeout}
    if base_url:
        kwargs["base_url"] = base_url
    if api_key:
        kwargs["api_key"] = api_key
    try:
        return init_chat_model(spec, **kwargs)
    except ImportError as err:
        raise LLMConfigError(f"ASSISTANT_LLM={spec}: {err}. Install the provider's extra, e.g. 'cited-assistant[ollama]'.") from None
    except ValueError as err:
        raise LLMConfigError(f"ASSISTANT_LLM={spec}: {str(err).splitlines()[0]} Use provider:model, e.g. ollama:llama3.1.") from None
