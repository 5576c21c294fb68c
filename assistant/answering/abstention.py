"""When to say "the documents do not answer this": checks that need no language model.

An extractive answer is a quoted sentence. Quoting the closest sentence is wrong when

1. nothing is close: the best sentence's fused score is below a threshold
   (``Settings.answer.abstain_below``); or it is close but does not answer: the learned
   answerability probability is below ``Settings.answer.answerable_below``
   (:mod:`assistant.answering.answerability`; both decided in :mod:`assistant.answering.answerer`);
2. the question names someone or something the documents never mention (a capitalised
   name absent from every document, accents, plurals and a typing error aside: "What did
   Fumio Kishida say?") or a code no document holds ("What does error E99 mean?",
   :func:`missing_codes`), or asks who holds a role no document mentions ("Who is the
   society's treasurer?" when no document has the word "treasurer"), or asks about a kind
   of thing a table or a document's sections list, but a kind they do not list and no
   document mentions ("How many days of bereavement leave?" of a policy listing annual, sick
   and parental leave; :func:`unlisted_kind`);
3. the question asks for a kind of answer the quoted sentence cannot contain — a number,
   a date or time, a length of time, an age, a rate, a name — the classic *expected answer type* check of TREC-era
   question answering (Harabagiu et al., "FALCON", TREC-9, 2000), done here with patterns;
4. the question is a task rather than a question ("Write a poem", "Ignore all previous
   instructions"): an extractive assistant only quotes its documents.

Each check returns a reason (a short English phrase, for logs and the eval report) or None.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"

_WH_WORD = re.compile(r"\b(what|which|who|whom|whose|where|why|how)\b", re.I)
_WHEN = re.compile(r"^\W*when\b|\bwhen (did|was|is|were|are|will|does|do|has|have|had|can|should|must|may)\b", re.I)
_ANSWER_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("age", re.compile(r"\bhow old\b|\bwhat age\b|\bat what age\b", re.I)),
    ("rate", re.compile(r"\bwhat (\w+ )?(rate|percentage)\b|\bwhat per ?cent\b", re.I)),
    ("count", re.compile(r"\bhow many\b", re.I)),
    ("duration", re.compile(r"\bhow long\b", re.I)),
    (
        "number",
        re.compile(r"\bhow (much|big|large|far)\b|\bwhat (share|proportion|number|amount|value|figure|sum|size)\b", re.I),
    ),
    ("date", re.compile(r"\b(what|which|in what|on what|at what|by what) (year|date|day|month|time|century|decade)\b", re.I)),
    ("when", _WHEN),
    (
        "name",
        re.compile(
            r"\bwhat is the name\b|\bwhat (is|was|are|were) (his|her|their|its) names?\b|"
            r"\b(which|what) (party|firm|company|think tank|university|"
            r"organi[sz]ation|consultancy|country|nation|city|newspaper|institute)\b",
            re.I,
        ),
    ),
]
"""Expected answer types, tried in order (the first match wins); a question matching none
has no expected type and is never refused by this check. "Who" is not a name question:
"Who do I call?" is answered by "the help desk". A question that opens with a "When ..."
clause and asks with another wh-word ("When a plant is injured, what can become
proplastids?") is not a "when" question."""

_CARDINAL = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    r"dozens?|hundreds?|thousands?|millions?|billions?"
)
_ORDINAL = (
    r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
    r"fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth|last|\d{1,2}(st|nd|rd|th)"
)
_TIME_UNIT = r"(seconds?|minutes?|hours?|days?|weeks?|fortnights?|months?|quarters?|years?|decades?|centuries|century)"
_NUMBER = re.compile(rf"\d|[\u00bc-\u00be\u2150-\u215e]|\b({_CARDINAL}|half|third|quarter)\b", re.I)
_DURATION = re.compile(
    rf"{_NUMBER.pattern}|\b{_TIME_UNIT}\b|\b(until|till|as long as|for as long|while|indefinitely|permanently|forever)\b",
    re.I,
)
_RATE = re.compile(r"\d\s*(%|per ?cent\b|percent\b)", re.I)
_AGE = re.compile(r"\b\d{1,3}[- ]year[- ]old\b|\baged? \d{1,3}\b|\b\d{1,3} years old\b", re.I)
_DATE = re.compile(
    rf"\b({MONTHS})\b|\b(1\d{{3}}|20\d\d)s?\b|\bc\.? ?\d{{3,4}}\b|\b\d{{1,4}} ?(bc|bce|ad|ce)\b|\b(ad|ce) \d{{1,4}}\b|"
    rf"\b({_ORDINAL})[- ](\w+ )?(day|week|month|year|quarter|centur(y|ies)|millennium)\b|\b\d{{1,2}}(st|nd|rd|th)\b|"
    rf"\b(\d+|{_CARDINAL}|a few|several) (\w+ )?{_TIME_UNIT}\b|"
    r"\b(each|every|per|a) (\w+ )?(day|week|month|year|quarter|morning|evening|night|session|term|semester)\b|"
    r"\b(daily|weekly|monthly|annually|yearly|quarterly|hourly|nightly|fortnightly)\b|"
    r"\b(spring|summer|autumn|winter|(mon|tues|wednes|thurs|fri|satur|sun)days?)\b|"
    r"\b(yesterday|today|tomorrow|tonight|noon|midnight|morning|evening|weekend|(last|next|this) (week|month|year)|"
    r"decades?|years? ago)\b|\b\d{1,2}:\d\d\b|\b\d{1,2}(\.\d\d)?\s*(am|pm|a\.m\.|p\.m\.|o'clock|h)\b",
    re.I,
)
"""A calendar date or time of day, or a temporal expression that answers "when": a year
(1000-2099, "c1750", "500 BC"), a century, an ordinal day ("the 25th", "the fourth
calendar day"), a span ("within 30 days"), a recurrence ("each month", "monthly"), a season."""
_WHEN_CLAUSE = re.compile(
    r"\b(when|whenever|after|before|during|until|till|once|upon|while|since|prior to|following|as soon as)\b", re.I
)
"""A temporal clause or phrase: "when" is also answered by an event ("after the war", "when
the oxygen concentration is too high"), not only by a date."""
_COUNT = re.compile(
    rf"(?<![$£€¥\d.,])\b(\d[\d,]*(\.\d+)?|{_CARDINAL})\b(?!\s*(%|per ?cent|bn|tn|trillion))"
    rf"(?P<unit>\s+{_TIME_UNIT}\b)?",
    re.I,
)
_YEAR = re.compile(r"^(1\d|20)\d\d$")
_CALENDAR = re.compile(rf"^({MONTHS}|monday|tuesday|wednesday|thursday|friday|saturday|sunday)$")
_NAME_RUN = re.compile(r"[A-Z][\w’'-]*[a-z][\w’'-]*(?: [A-Z][\w’'-]*[a-z][\w’'-]*)*")
_DEMONYM = re.compile(r"(an|ese|ish|ic)$")
_TASK = re.compile(
    r"^(please\s+)?(ignore|disregard|forget|pretend|act as|imagine you|write|draft|compose|create|generate|"
    r"translate|tell me a (joke|story)|role-?play|print|repeat after)\b",
    re.I,
)


def fold(word: str) -> str:
    """``word`` lower-cased without accents ("Schrödinger" -> "schrodinger", "Céloron" ->
    "celoron"): how a question typed on an English keyboard spells a document's name."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


_WORD = re.compile(r"\w+")

CODE = re.compile(r"\b[A-Z][A-Za-z]*(?:[-/][A-Za-z]+)*[-/]?\d[\w-]*")
"""A code: a capital letter's word then digits, hyphens allowed ("E17", "X200", "IT-14",
"LEEDS-PR-02", "COVID-19", "A167"): how manuals, policies and reports name error codes, models,
forms, rooms and versions. A number first ("30th", "1990s", "5GHz") is no code, nor are
lower-case letters first ("c1622", "d2008": circa, typing errors)."""


VERSION = re.compile(r"\b(?:version|release|v)\s?(\d+(?:\.\d+)+)\b", re.I)
"""A version named by its number ("version 3.0", "release 2.4.1", "v1.2"): the number is the
name, so it counts as a code (:func:`missing_codes`); a dotted number alone may be a decimal."""

_DOTTED = re.compile(r"\b\d+(?:\.\d+)+\b")


def _code_key(code: str) -> str:
    """A code as compared: folded, separators dropped ("IT-14" and "it14" are both "it14")."""
    return "".join(c for c in fold(code) if c.isalnum())


def vocabulary_of(texts: Iterable[str]) -> set[str]:
    """What the unknown-name and unknown-code checks compare with: every word (``\\w+``) of
    ``texts`` folded (:func:`fold`), every :data:`CODE` whole, as :func:`_code_key` keys it, and
    every dotted number ("2.1", for :data:`VERSION`)."""
    vocabulary: set[str] = set()
    for text in texts:
        vocabulary.update(fold(w) for w in _WORD.findall(text))
        vocabulary.update(_code_key(c) for c in CODE.findall(text))
        vocabulary.update(_DOTTED.findall(text))
    return vocabulary


def missing_codes(question: str, vocabulary: set[str]) -> list[str]:
    """The codes the question names (:data:`CODE`: "error E99", "printer LEEDS-PR-09", "form
    IT-99"; :data:`VERSION`: "version 3.0") that no document holds, compared whole, case and
    hyphens aside; as the question writes them, each once. A code differs from its neighbours
    by one character ("PR-02", "PR-09"), so, unlike a name, no typing error is allowed: the
    documents list other codes.

    Measured on the public sets' fit documents (whole and gap sets, this function over their
    questions): the codes of 3 of 1,976 SQuAD gap questions are missing ("What's the nickname
    for Newcastle's A167?"), of 1 of 2,836 SQuAD 2.0 unanswerable ones, and of 1 of 8,715
    answerable ones, a typing error ("Romans3:28"). Its use is in manuals and policies, where
    codes are how things are named."""
    codes = [c for c in dict.fromkeys(CODE.findall(question)) if _code_key(c) not in vocabulary]
    return codes + [m.group() for m in VERSION.finditer(question) if m.group(1) not in vocabulary]


def expected_answer_type(question: str) -> str | None:
    """``"age" | "rate" | "count" | "duration" | "number" | "date" | "when" | "name"`` or None when the question does not say."""
    for name, pattern in _ANSWER_TYPES:
        if m := pattern.search(question):
            if name == "when" and _WH_WORD.search(question, m.end()):
                continue  # "When X happens, what ...?": the clause sets a condition, "what" asks
            return name
    return None


def person_named(text: str) -> tuple[str, ...]:
    """The first full name in ``text`` (two or more capitalised words, lower-cased:
    "Who is Yuki Tatsumi?" -> ``("yuki", "tatsumi")``), or ``()``."""
    return next((tuple(run) for run in _name_runs(text) if len(run) >= 2), ())


def _name_runs(text: str) -> list[list[str]]:
    """Runs of capitalised words, lower-cased (a cheap proper-noun test). A run that starts a
    sentence counts only if it has two or more words ("Marco Rubio", not "The")."""
    runs = []
    for m in _NAME_RUN.finditer(text):
        words = [w for w in re.findall(r"\w+", m.group().lower()) if w != "s"]
        before = text[: m.start()].rstrip()
        if (not before or before[-1] in ".!?“\"‘'([:") and len(words) < 2:
            continue
        if words and not all(_CALENDAR.match(w) for w in words):
            runs.append(words)
    return runs


def _counts(text: str, question: str) -> list[str]:
    """Numbers that can answer "how many": not money, a percentage or a year, and not a span
    of time ("four decades") unless the question counts time ("how many years", "how many
    volunteering days": the unit at most two words after "how many")."""
    asks_time = re.search(rf"\bhow many (?:\w+\s+){{0,2}}{_TIME_UNIT}\b", question, re.I) is not None
    out = []
    for m in _COUNT.finditer(text):
        if _YEAR.match(m.group(1)) or (m.group("unit") and not asks_time):
            continue
        out.append(m.group(1).lower())
    return out


def _lowercase_month(word: str) -> bool:
    """"may", "march": a verb, not a month (a month is written with a capital)."""
    return word.islower() and _CALENDAR.match(word) is not None


def type_mismatch(question: str, sentences: Iterable[str]) -> str | None:
    """A reason when no sentence of ``sentences`` can hold the answer type the question asks for.

    A candidate must be new: a number or name already in the question does not count
    ("How many Marines were moved under the 2012 plan?" is not answered by "2012"; "Who does
    Rubio say he met?" is not answered by "Marco Rubio").
    """
    kind = expected_answer_type(question)
    if kind is None:
        return None
    text = " ".join(sentences)
    asked_words = set(re.findall(r"\w+", question.lower()))
    if kind == "name":
        asked_names = {w.lower() for w in re.findall(r"\b[A-Z]\w*", question)}
        if any(not asked_names.intersection(run) for run in _name_runs(text)):
            return None
        return "the question asks for a name and the closest passage names nobody new"
    if kind == "count":
        if any(c not in asked_words for c in _counts(text, question)):
            return None
        return "the question asks how many and the closest passage counts nothing"
    patterns = {"age": [_AGE], "rate": [_RATE], "number": [_NUMBER], "duration": [_DURATION], "date": [_DATE], "when": [_DATE, _WHEN_CLAUSE]}[kind]
    for pattern in patterns:
        asked = set() if pattern is _WHEN_CLAUSE else {m.group().lower() for m in pattern.finditer(question)}
        if any(m.group().lower() not in asked and not _lowercase_month(m.group()) for m in pattern.finditer(text)):
            return None
    article = "an" if kind == "age" else "a"
    noun = {"when": "time", "duration": "length of time"}.get(kind, kind)
    return f"the question asks for {article} {noun} and the closest passage has none"


def unknown_names(question: str, vocabulary: set[str]) -> str | None:
    """A reason when the question names someone or something no document mentions.

    A name is a run of capitalised words that does not start the question ("Fumio Kishida"),
    its leading function words dropped (bm25s's ``STOPWORDS_EN_PLUS``: "Regarding sick leave,
    How many days ...?" names nobody; "When Fumio Kishida ..." names "Fumio Kishida"); it is
    unknown when none of its words occurs in ``vocabulary`` (the words of all documents, folded
    by :func:`fold`), so "Shinzo Abe" passes when "Abe" occurs.
    """
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    unknown = []
    for m in _NAME_RUN.finditer(question):
        before = question[: m.start()].rstrip()
        if not before or before[-1] in ".!?“\"‘'([:":
            continue
        name = m.group().split(" ")
        while name and name[0].lower() in STOPWORDS_EN_PLUS:
            name.pop(0)
        if not name:
            continue
        words = [w for w in re.findall(r"\w+", " ".join(name).lower()) if w != "s"]
        if len(words) == 1 and _DEMONYM.search(words[0]):
            continue  # "American", "Japanese": adjectives, often paraphrasing a name the text uses
        if not any(_known(w, vocabulary) or _misspelt(w, vocabulary) for w in words):
            unknown.append(" ".join(name))
    if unknown:
        return f"the documents never mention {', '.join(unknown)}"
    return None


_WHO_ROLE = re.compile(
    r"^\W*who(?:['’]s| (?:is|was|are|were))\s+(?:the|a|an|its|their|his|her|our|[\w’'-]+['’]s)\s+"
    r"(?P<role>[a-z][\w’'-]*(?:\s+[a-z][\w’'-]*){0,3}?)\s*(?P<rest>\b(?:in|at|of|for|on|to|from|with|under|during|by|now|then|today|currently|there|here)\b.*)?\W*$",
    re.I,
)


def unknown_role(question: str, vocabulary: set[str]) -> str | None:
    """A reason when a "Who is the <role>?" question asks for a role no document mentions.

    The role's head is the last word before an optional prepositional phrase ("the US
    ambassador in Tokyo" -> "ambassador"); it is unknown when neither it nor its singular is
    in ``vocabulary`` (the folded words of all documents). Only this question shape is
    checked: elsewhere a word missing from the documents is usually a paraphrase. A role *of*
    or *for* something the documents do mention ("Who is the head of People Operations?" of
    a text that says "People Operations is led by ...") is not checked either: the documents
    know the unit and may word the relation differently.
    """
    m = _WHO_ROLE.match(question.strip())
    if not m:
        return None
    rest = (m.group("rest") or "").split(None, 1)
    if len(rest) == 2 and rest[0].lower() in ("of", "for"):
        named = [w for w in re.findall(r"\w+", rest[1]) if len(w) > 2 and w.lower() not in ("the", "and", "our", "its")]
        if named and all(_known(w.lower(), vocabulary) for w in named):
            return None
    head = m.group("role").split()[-1].strip("’'")
    if all(_known(part.lower(), vocabulary) for part in re.findall(r"\w+", head)):  # "vice-president": both parts
        return None
    return f"the documents never mention a {head if head.isupper() else head.lower()}"  # "a CFO", "a treasurer"


def unlisted_kind(question: str, keys: Sequence[str], vocabulary: set[str]) -> str | None:
    """A reason when the question asks about a kind of thing a table or a document's sections
    list, but a kind they do not list and no document mentions ("How many days of bereavement
    leave?" when the quoted row's table, or the policy's sections, list "Annual leave", "Sick
    leave" and "Parental leave").

    ``keys`` are the names listed: a table's rows' first cells or a document's section titles
    (:func:`~assistant.answering.procedures.sibling_keys`). A *kind noun* is the last word
    shared by at least two keys ("leave"); the check reads the word right before that noun in
    the question. It refuses when that word is a content word (not in bm25s's
    ``STOPWORDS_EN_PLUS``, not the word after "how": "how much leave"), in no key, and in no
    document, spelt as it is or with a typing error (:func:`_known`, :func:`_misspelt`): the
    table enumerates the kinds, and the one asked about is not among them. A modifier the
    documents use elsewhere ("paid leave" of a policy that says "each kind of paid leave") is
    not checked: the text may answer.
    """
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    words_of = {k: re.findall(r"\w+", fold(k)) for k in keys}
    heads = Counter(ws[-1] for ws in words_of.values() if ws)
    nouns = {n for n, c in heads.items() if c >= 2}
    if not nouns:
        return None
    in_keys = {w for ws in words_of.values() for w in ws}
    words = re.findall(r"[^\W_]+(?:[-'’][^\W_]+)*", question)
    for i, (before, word) in enumerate(zip(words, words[1:])):
        noun = next((n for n in (fold(word), fold(word).rstrip("s")) if n in nouns), None)
        if noun is None or before.lower() in STOPWORDS_EN_PLUS or i and words[i - 1].lower() == "how":
            continue  # not a kind noun; "the leave", "how much leave": how the question asks, not a kind
        if fold(before) in in_keys or _known(before, vocabulary) or _misspelt(before, vocabulary):
            continue
        listed = [" ".join(k.split()) for k, ws in words_of.items() if ws[-1:] == [noun]]
        return f"the documents list {', '.join(listed)}, but not {before} {word}"
    return None


def _known(word: str, vocabulary: set[str]) -> bool:
    """``word``, its singular ("treasurers", "secretaries") or its plural ("Panther" when the
    documents say "Panthers") is in ``vocabulary``, accents aside (see :func:`fold`;
    ``vocabulary`` holds folded words)."""
    word = fold(word)
    forms = {word, word.rstrip("s"), word + "s", word + "es"}
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    return not forms.isdisjoint(vocabulary)


TYPO_EDITS: tuple[tuple[int, int], ...] = ((8, 2), (5, 1))
"""Edits that still read as the same name, by word length in characters: 2 from 8
characters, 1 from 5, none below (a short name is too close to other words). Chosen on the
fit documents of the public sets (docs/evaluation.md, "The abstention checks, measured")."""

PREFIX_MATCH = True
"""Whether a name word that starts a document word is known ("Europe" when a policy says
"European"); on the fit documents it changed one PolicyQA question and nothing else."""


def _misspelt(word: str, vocabulary: set[str]) -> bool:
    """``word`` is a typing error of a document's word: a Levenshtein distance of at most
    ``TYPO_EDITS`` (by the word's length) to a word of ``vocabulary`` ("Moncalm" ->
    "montcalm", "Melanchhon" -> "melanchthon"), or the start of one ("Europe" -> "european")."""
    word = fold(word)
    edits = next((n for length, n in TYPO_EDITS if len(word) >= length), 0)
    if not edits:
        return False
    if PREFIX_MATCH and any(v.startswith(word) for v in vocabulary):
        return True
    return process.extractOne(word, vocabulary, scorer=Levenshtein.distance, score_cutoff=edits) is not None



def is_task(question: str) -> str | None:
    """A reason when the question is an instruction to produce something rather than a question."""
    if _TASK.search(question.strip()):
        return "this is a request to write or act, and the assistant only answers from its documents"
    return None
