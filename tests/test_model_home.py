"""One home per fitted model (assistant/models/<name>/): config.json, its card generated from it,
and the models reading their fitted values from it (no model is run here)."""

from __future__ import annotations

import json

import pytest

from assistant.answering import model_home
from assistant.answering.model_home import CARD, CONFIG, card_with_values, fitted_values, home, read_config, write_home

pytestmark = pytest.mark.unit

MODELS = ("answerability", "support", "reader")


@pytest.mark.parametrize("name", MODELS)
def test_every_model_folder_holds_its_config_and_a_card_current_with_it(name):
    folder = home(name)
    config = read_config(folder)
    card = (folder / CARD).read_text(encoding="utf-8")
    assert "sha256" in config
    assert fitted_values(config) in card, f"{name}'s MODEL_CARD.md is stale: run its fit script (or model_home.write_home)"
    assert card_with_values(card, config) == card


def test_the_reader_reads_its_fitted_values_from_its_config():
    from assistant.answering import reader

    config = read_config(home("reader"))
    assert reader.READER_SHA256 == config["sha256"] and reader.READER_FILE == config["file"] and reader.READER_NAME == config["name"]
    assert reader.FUSION == config["fusion"] and set(reader.FUSION) == {"logit", "fused", "similarity", "coverage", "bias"}
    assert reader.CALIBRATION == (config["calibration"]["scale"], config["calibration"]["bias"])
    assert (home("reader") / reader.READER_FILE).is_file()


def test_the_heads_load_from_their_homes():
    from assistant.answering.answerability import MODEL_PATH as ANSWERABILITY, AnswerabilityModel
    from assistant.answering.support import MODEL_PATH as SUPPORT, SupportModel

    assert ANSWERABILITY == home("answerability") / CONFIG and SUPPORT == home("support") / CONFIG
    assert AnswerabilityModel.load().threshold == read_config(home("answerability"))["threshold"]
    assert SupportModel.load().share == read_config(home("support"))["share"]


def test_write_home_writes_the_config_and_rewrites_only_the_cards_generated_section(tmp_path):
    write_home(tmp_path, {"threshold": 0.2, "fusion": {"a": 1.5}, "fitted": {"by": "a-script-of-mine"}}, "Toy")
    card = (tmp_path / CARD).read_text(encoding="utf-8")
    assert card.startswith("# Toy\n") and "| `fusion.a` | 1.5 |" in card and "a-script-of-mine" not in card
    (tmp_path / CARD).write_text(card.replace("# Toy\n", "# Toy\n\nHand-written prose.\n"), encoding="utf-8")
    write_home(tmp_path, {"threshold": 0.3}, "Toy")
    card = (tmp_path / CARD).read_text(encoding="utf-8")
    assert "Hand-written prose." in card and "| `threshold` | 0.3 |" in card and "0.2" not in card and "fusion" not in card
    assert json.loads((tmp_path / CONFIG).read_text(encoding="utf-8")) == {"threshold": 0.3}
    assert model_home.MODELS_DIR.name == "models"
