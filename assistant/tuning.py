"""The answer path's rule constants, in one place: each was chosen by a measurement, named in
its comment (the commands and machines of the numbers are in ``benchmarks/RESULTS.md``).

Fitted values are not here: they live with their model (``assistant/models/<name>/config.json``,
:mod:`assistant.answering.model_home`); settings a user may change are in
:mod:`assistant.settings`. The modules that use a constant import it from here.
"""

from __future__ import annotations


PASSAGE_WEIGHT = 1.0
"""Weight of the cosine between the question and a sentence's whole passage, added to the
sentence's own cosine: it carries context (who is speaking, what "it" is) into short quotes.
Passage hit@1 on seeds/questions.jsonl: 0.77 without, 0.81 with 0.5-1.0 (flat in between)."""


WINDOW_SHARE = 1.0 / 3.0
"""Weight of window coverage relative to sentence coverage inside the lexical score
(``bm25_weight * (coverage + WINDOW_SHARE * window coverage)``); 1/3 measured best of {0, 1/3, 2/3}."""


FOCUS_BONUS = 0.4
"""Added to the fused score of sentences in the focus passage (half in its neighbours), in
fused-score units (about one question term's share of coverage, 0.25, times bm25_weight 1.5).
Follow-up hit@3 on seeds/questions.jsonl is 1.0 for 0.3-0.5 and drops to 0.89 at 0.8."""


SPEAKER_WEIGHT = FOCUS_BONUS
"""For a follow-up that says "he"/"she" about a person an earlier turn named: added to the
fused score of passages quoting that person, subtracted from passages quoting someone else
by name and never naming that person ("What did she say about Abe?" after "Who is Yuki
Tatsumi?" quotes Tatsumi, not Yoichi Funabashi's words about Abe). Same units as
:data:`FOCUS_BONUS`, and the same value. Measured (hit@1 / hit@3 / MRR): seeds/questions.jsonl
unchanged overall and on its follow-ups (1.0 / 1.0 / 1.0); 60 held-out questions 0.792 / 0.896 /
0.840 -> 0.833 / 0.917 / 0.872, their follow-ups 0.75 / 0.875 / 0.812 -> 1.0 / 1.0 / 1.0
(0.2 gives 0.875 / 1.0 / 0.938, 0.6 the same as 0.4)."""


FOCUS_DEPTH = 3
"""How many earlier turns a chain of follow-ups is traced back (each costs one search)."""


TOP_SENTENCES = 5
"""Candidates read by the features: the best sentences by fused score (the issue's baseline
measured "the best five sentences")."""


MAX_PROCEDURE_STEPS = 12
"""Steps quoted of one procedure at most (count): a longer list is quoted up to here."""


MAX_PROCEDURE_CHARS = 1500
"""Characters quoted of one procedure at most, notes included (about a screen of the chat)."""


SUPPORT_THRESHOLD = 0.5
"""A sentence is supported by a passage when its best-matching sentence there scores at least
this, where the score is the mean of (a) the cosine similarity of the two sentences'
embeddings and (b) the share of the claim's content words (stemmed, stop words removed) that
the passage sentence contains. Chosen with ``benchmarks/support_threshold.py`` on the seed
article: claims made from its sentences with every third word dropped score 0.82-1.0 against
their own passage (all accepted at 0.5), while against the retriever's best *other* passage
they score a median 0.34, and 7 % of them reach 0.5 (17 % at 0.45, 2 % at 0.55). 0.5 is the
lowest round value with under 10 % wrongly accepted, leaving room for a model's rewording."""
