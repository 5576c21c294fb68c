"""The answerability model: its features, the shipped weights, and bad model files."""

from __future__ import annotations

import json

import pytest

from assistant.answerability import FEATURES, MODEL_PATH, AnswerabilityModel, features
from assistant.lexical import idf
from assistant.errors import ModelError

DF = {"mill": 3, "built": 2, "renov": 1, "railway": 2, "station": 2}
N = 200


def test_missing_terms_are_weighed_by_idf():
    f = features(["mill", "built"], {"mill", "built", "1662"}, DF, N, 1.2, 0.6, 0.8, "When was the mill built?", "The mill was built in 1662.")
    assert f["missing"] == 0.0 and f["rarest_missing"] == 0.0 and f["negation"] == 0.0
    f = features(["railway", "station", "renov"], {"railway", "station", "1871"}, DF, N, 1.0, 0.5, 0.6,
                 "In what year was the railway station renovated?", "The railway station opened in 1871.")
    share = idf(1, N) / (idf(1, N) + 2 * idf(2, N))
    assert f["missing"] == pytest.approx(share)
    assert f["rarest_missing"] == pytest.approx(idf(1, N) / idf(0, N))
    assert f["terms"] == 3.0


def test_negation_counts_only_when_the_sentence_has_none():
    args = (["river", "flood"], {"river", "flood"}, {}, 10, 1.0, 0.5, 0.5)
    assert features(*args, "When does the river not flood?", "The river floods every spring.")["negation"] == 1.0
    assert features(*args, "When doesn't the river flood?", "The river floods every spring.")["negation"] == 1.0
    assert features(*args, "When does the river not flood?", "The river does not flood in winter.")["negation"] == 0.0
    assert features(*args, "When does the river flood?", "It never floods in winter.")["negation"] == 0.0


def test_shipped_model_matches_its_feature_list_and_its_weights_have_their_signs():
    raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert tuple(raw["features"]) == FEATURES and len(raw["weights"]) == len(FEATURES)
    assert raw["fitted"]["questions"], "the model records what it was fitted on"
    model = AnswerabilityModel.load()
    assert 0.0 < model.threshold < 1.0
    base = {"fused": 1.0, "similarity": 0.5, "coverage": 0.5, "missing": 0.2, "rarest_missing": 0.3, "terms": 4.0, "negation": 0.0}
    p = model.probability(base)
    assert 0.0 < p < 1.0
    for score in ("fused", "similarity", "coverage"):
        assert model.probability({**base, score: base[score] + 0.5}) >= p, f"a higher {score} never makes an answer less likely"
    assert model.probability({**base, "negation": 1.0}) < p, "a negation the sentence lacks makes it less likely"
    assert model.probability({**base, "rarest_missing": 1.0}) < p, "a rare question term the sentence lacks makes it less likely"


@pytest.mark.parametrize(
    "content",
    [None, "not json", json.dumps({"features": ["fused"], "weights": [1], "mean": [0], "scale": [1], "bias": 0, "threshold": 0.5})],
)
def test_missing_or_altered_model_file_is_one_clear_error(tmp_path, content):
    path = tmp_path / "answerability.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelError) as err:
        AnswerabilityModel.load(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and "fit_answerability.py" in message


def test_question_words_are_not_content_terms():
    from assistant.lexical import SentenceLexicon

    lexicon = SentenceLexicon(["The station opened in 1873."], ["The station opened in 1873."])
    assert lexicon.content_terms("When did the railway station open?") == ["railway", "station", "open"]
    assert "when" in lexicon.terms("When did the railway station open?"), "BM25 itself keeps its short stop-word list"
