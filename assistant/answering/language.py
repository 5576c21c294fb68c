"""Questions in another language: the assistant reads English, and says so in English and,
where it can tell, in the question's language.

Detection is by ``py3langid`` (a maintained fork of langid.py: a naive-Bayes model over byte
n-grams, 97 languages, restricted here to the languages of :data:`NOTICES`). It runs only
for a question that was going to be answered "the documents do not answer" *and* does not
look English (:func:`looks_english`: it has letters of a non-Latin script, or few English
function words), so English questions never pay for it. The model loads once per process,
on the first question that passes the gate; the costs are measured by
``benchmarks/language.py`` (``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import re
import threading
import unicodedata

ENGLISH_NOTICE = "This assistant reads English only: please ask your question in English."

NOTICES: dict[str, tuple[str, str]] = {
    "fr": ("French", "Cet assistant ne lit que l'anglais : posez votre question en anglais, s'il vous plaît."),
    "de": ("German", "Dieser Assistent liest nur Englisch: Bitte stellen Sie Ihre Frage auf Englisch."),
    "es": ("Spanish", "Este asistente solo lee inglés: por favor, haga su pregunta en inglés."),
    "it": ("Italian", "Questo assistente legge solo l'inglese: per favore, fai la tua domanda in inglese."),
    "pt": ("Portuguese", "Este assistente só lê inglês: por favor, faça a sua pergunta em inglês."),
    "nl": ("Dutch", "Deze assistent leest alleen Engels: stel uw vraag alstublieft in het Engels."),
    "pl": ("Polish", "Ten asystent czyta tylko po angielsku: proszę zadać pytanie po angielsku."),
    "sv": ("Swedish", "Den här assistenten läser bara engelska: ställ din fråga på engelska."),
    "da": ("Danish", "Denne assistent læser kun engelsk: stil venligst dit spørgsmål på engelsk."),
    "tr": ("Turkish", "Bu asistan yalnızca İngilizce okur: lütfen sorunuzu İngilizce sorun."),
    "ru": ("Russian", "Этот помощник читает только по-английски: пожалуйста, задайте вопрос на английском."),
    "uk": ("Ukrainian", "Цей помічник читає лише англійською: будь ласка, поставте запитання англійською."),
    "ja": ("Japanese", "このアシスタントは英語しか読めません。質問は英語でお願いします。"),
    "zh": ("Chinese", "此助手只能阅读英文：请用英文提问。"),
    "ko": ("Korean", "이 도우미는 영어만 읽을 수 있습니다. 영어로 질문해 주세요."),
    "ar": ("Arabic", "هذا المساعد يقرأ الإنجليزية فقط: يرجى طرح سؤالك بالإنجليزية."),
}
"""Per ISO 639-1 code: the language's English name and the notice in that language."""

MIN_PROBABILITY = 0.9
"""Detected languages below this (normalised) probability are not claimed: short questions made
mostly of names ("Kim jest Yuki Tatsumi?") are often ambiguous, and the plain answer is kept."""

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_identifier = None
_lock = threading.Lock()
_ENGLISH: frozenset[str] = frozenset()


def _english_words() -> frozenset[str]:
    global _ENGLISH
    if not _ENGLISH:
        from bm25s.stopwords import STOPWORDS_EN_PLUS  # a library list of English function words

        _ENGLISH = frozenset(STOPWORDS_EN_PLUS) | {"say", "said", "many", "much", "whose", "tell"}
    return _ENGLISH


ENGLISH_SHARE = 0.3
"""A question of two words or more looks English when at least this share of its words are
English function words ("Who is Japan's chief negotiator?": 2 of 4). Words such as "do",
"is" or "me" also occur in other languages, hence a share rather than any one word."""


def looks_english(question: str) -> bool:
    """Cheap gate: False when the question has letters of a non-Latin script, or
    has two words or more of which under :data:`ENGLISH_SHARE` are English function words."""
    if any(not ch.isascii() and ch.isalpha() and not unicodedata.name(ch, "LATIN").startswith("LATIN") for ch in question):
        return False
    words = [w.lower().split("'")[0] for w in _WORD.findall(question)]
    if len(words) < 2:
        return True
    english = _english_words()
    return sum(w in english for w in words) / len(words) >= ENGLISH_SHARE


def _detector():
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

            ident = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
            ident.set_languages(["en", *NOTICES])
            _identifier = ident
        return _identifier


def detect(question: str) -> str | None:
    """ISO 639-1 code of the question's language if it is confidently one of :data:`NOTICES`
    (not English), else None. Runs the model only when :func:`looks_english` is False."""
    if looks_english(question):
        return None
    code, probability = _detector().classify(question)
    return code if code in NOTICES and float(probability) >= MIN_PROBABILITY else None


def english_only(question: str) -> tuple[str, str] | None:
    """For a question in another language: ``(abstain_reason, text)`` where ``text`` says in
    English and in the question's language that the assistant reads English; None otherwise."""
    code = detect(question)
    if code is None:
        return None
    name, notice = NOTICES[code]
    return f"the question seems to be in {name}; this assistant reads English", f"{ENGLISH_NOTICE} {notice}"
