"""The answerability model: its features, the shipped weights, and bad model files."""

from __future__ import annotations

import json

import pytest

from assistant.answering.answerability import FEATURE_DOCS, HEADS, MODEL_PATH, AnswerabilityModel, Candidate, evidence, features
from assistant.retrieval.lexical import idf
from assistant.errors import ModelError

DF = {"mill": 3, "built": 2, "renov": 1, "railway": 2, "station": 2, "platform": 0}
N = 200


def candidate(terms, text="", fused=1.0, similarity=0.5, coverage=0.5, passage=None) -> Candidate:
    return Candidate(frozenset(terms), frozenset(passage if passage is not None else terms), fused, similarity, coverage, text)


@pytest.mark.unit
def test_missing_terms_are_weighed_by_idf():
    e = evidence("When was the mill built?", ["mill", "built"], DF, N, [candidate({"mill", "built", "1662"}, "The mill was built in 1662.")])
    f = features(e)
    assert f["missing"] == 0.0 and f["rarest_missing"] == 0.0 and f["negation"] == 0.0 and f["missing_index"] == 0.0
    e = evidence("In what year was the railway station renovated?", ["railway", "station", "renov"], DF, N,
                 [candidate({"railway", "station", "1871"}, "The railway station opened in 1871.")])
    f = features(e)
    share = idf(1, N) / (idf(1, N) + 2 * idf(2, N))
    assert f["missing"] == pytest.approx(share)
    assert f["rarest_missing"] == pytest.approx(idf(1, N) / idf(0, N))
    assert f["terms"] == 3.0


@pytest.mark.unit
def test_a_term_no_document_holds_counts_for_the_whole_index():
    e = evidence("When was the railway platform built?", ["railway", "platform", "built"], DF, N,
                 [candidate({"railway", "built"}, passage={"railway", "built", "station"}), candidate({"platform"})])
    f = features(e)
    total = idf(2, N) + idf(0, N) + idf(2, N)
    assert f["missing_index"] == pytest.approx(idf(0, N) / total), "platform: no sentence of the collection holds it"
    assert f["missing_passage"] == pytest.approx(idf(0, N) / total)
    assert f["missing_top"] == 0.0, "the second candidate holds it"
    assert f["margin"] == pytest.approx(0.0)


@pytest.mark.unit
def test_negation_counts_only_when_the_sentence_has_none():
    def negation(question, sentence):
        return features(evidence(question, ["river", "flood"], {}, 10, [candidate({"river", "flood"}, sentence)]))["negation"]

    assert negation("When does the river not flood?", "The river floods every spring.") == 1.0
    assert negation("When doesn't the river flood?", "The river floods every spring.") == 1.0
    assert negation("When does the river not flood?", "The river does not flood in winter.") == 0.0
    assert negation("When does the river flood?", "It never floods in winter.") == 0.0


SIGNED = {"fused": 1, "similarity": 1, "coverage": 1, "margin": 1, "missing": -1, "missing_passage": -1, "missing_top": -1,
          "missing_index": -1, "rarest_missing": -1, "rarest_missing_top": -1, "negation": -1}


@pytest.mark.unit
def test_shipped_model_is_checked_and_its_weights_have_their_signs():
    raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert raw["heads"] and set(raw["heads"]) <= set(HEADS) and raw["fitted"]["questions"], "the model records what it was fitted on"
    model = AnswerabilityModel.load()
    assert 0.0 < model.threshold < 1.0
    for name, head in model.heads.items():
        assert set(head.features) <= set(FEATURE_DOCS) and len(head.weights) == len(head.features)
        base = dict(zip(head.features, head.mean))
        p = head.probability(base)
        assert 0.0 < p < 1.0
        for feature, sign in SIGNED.items():
            if feature in head.features:
                moved = head.probability({**base, feature: base[feature] + 0.5})
                assert (moved >= p) if sign > 0 else (moved <= p), f"{name} head, {feature}: the weight has the wrong sign"


@pytest.mark.unit
def test_the_answerable_probability_is_the_product_of_the_heads(tmp_path):
    from assistant.answering.answerability import Head

    near = Head(("similarity", "negation"), (0.5, -1.0), (0.5, 0.0), (0.1, 1.0), 1.0)
    gap = Head(("missing_index",), (-2.0,), (0.2,), (0.3,), 2.0)
    model = AnswerabilityModel({"near_miss": near, "gap": gap}, 0.3)
    values = {f: 0.5 for f in FEATURE_DOCS}
    assert model.probability(values) == pytest.approx(near.probability(values) * gap.probability(values))
    record = {"heads": {n: {"features": list(h.features), "weights": list(h.weights), "mean": list(h.mean), "scale": list(h.scale),
                            "bias": h.bias} for n, h in model.heads.items()}, "threshold": 0.3, "sha256": model.sha256()}
    path = tmp_path / "two.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    assert AnswerabilityModel.load(path) == model, "a file with both heads loads and checks"


@pytest.mark.parametrize(
    "content",
    [None, "not json", json.dumps({"features": ["fused"], "weights": [1], "mean": [0], "scale": [1], "bias": 0, "threshold": 0.5}),
     json.dumps({**json.loads(MODEL_PATH.read_text(encoding="utf-8")), "threshold": 0.99}),
     json.dumps({**json.loads(MODEL_PATH.read_text(encoding="utf-8")), "heads": {}})],
)
@pytest.mark.unit
def test_missing_or_altered_model_file_is_one_clear_error(tmp_path, content):
    """Missing, not JSON, or weights that do not match the recorded SHA-256: one line naming the file."""
    path = tmp_path / "answerability.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelError) as err:
        AnswerabilityModel.load(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and "fit_answerability.py" in message
    if content and "sha256" in content and '"threshold": 0.99' in content:
        assert "SHA-256" in message and json.loads(content)["sha256"] in message, "names the expected checksum"


@pytest.mark.unit
def test_question_words_are_not_content_terms():
    from assistant.retrieval.lexical import SentenceLexicon

    lexicon = SentenceLexicon(["The station opened in 1873."], ["The station opened in 1873."])
    assert lexicon.content_terms("When did the railway station open?") == ["railway", "station", "open"]
    assert "when" in lexicon.terms("When did the railway station open?"), "BM25 itself keeps its short stop-word list"


@pytest.mark.unit
def test_a_single_digit_is_an_index_term():
    from assistant.retrieval.lexical import SentenceLexicon

    rows = ["Floor 2 fire warden: Tom Becker", "Floor 3 fire warden: Aisha Okafor"]
    lexicon = SentenceLexicon(rows, rows)
    assert "3" in lexicon.terms("Who is the fire warden on floor 3?")
    sentence, _ = lexicon.coverage(lexicon.terms("Who is the fire warden on floor 3?"))
    assert sentence[1] > sentence[0]  # the digit tells the two rows apart


@pytest.mark.unit
def test_a_dotted_number_is_one_index_term():
    """A version, section or decimal is one term: "2.1" no longer matches "1.2" or "2.0" through
    its digits (release notes with a heading per version, a new user's trial)."""
    from assistant.retrieval.lexical import SentenceLexicon

    rows = ["Version 1.2 added invoices.", "Version 2.0 added a new dashboard.", "Version 2.1 removed the CSV import."]
    lexicon = SentenceLexicon(rows, rows)
    assert "2.1" in lexicon.terms("What changed in version 2.1?") and "1" not in lexicon.terms("What changed in version 2.1?")
    sentence, _ = lexicon.coverage(lexicon.terms("What changed in version 2.1?"))
    assert sentence[2] > sentence[1] and sentence[2] > sentence[0]
