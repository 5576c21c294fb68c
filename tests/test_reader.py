"""The reader: its integrity check, its inputs, its ONNX Runtime session, its use in answers.

The mechanics are tested with a reader exported here from the packaged all-MiniLM-L6-v2 weights
(its first 2 layers and a seeded, untrained head) through the same export as a trained one
(``benchmarks/export_reader.py``): real ONNX Runtime, real tokenizer, real store. Its scores
mean nothing, so these tests check shapes, thresholds, messages and thread safety, not quality
(quality is measured by ``benchmarks/fit_reader.py`` and ``assistant eval``).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from assistant.answering.reader import Candidate, Reader
from assistant.answering.reader_input import MAX_TOKENS, PairEncoder
from index.packaged_model import PackagedModel
from index.errors import ModelError

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (ROOT / "seeds" / "japan-us-reset.txt").read_text(encoding="utf-8")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def reader_file(tmp_path_factory) -> Path:
    """An exported (untrained) reader: ONNX with int8 weights, as the shipped one is made."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import torch
    from export_reader import export
    from train_reader import make_model

    torch.manual_seed(0)
    tmp = tmp_path_factory.mktemp("reader")
    torch.save({"state": make_model(2).state_dict(), "layers": 2}, tmp / "reader.pt")
    return export(tmp / "reader.pt", tmp / "onnx")


@pytest.fixture(scope="session")
def reader(reader_file) -> Reader:
    return Reader(reader_file, _sha(reader_file))


@pytest.fixture(scope="module")
def encoder():
    return PairEncoder(PackagedModel(None, False).tokenizer)


def test_altered_weights_are_refused_with_the_file_and_expected_checksum(reader_file, tmp_path):
    altered = tmp_path / "reader.onnx"
    data = bytearray(reader_file.read_bytes())
    data[1000] ^= 0xFF
    altered.write_bytes(bytes(data))
    expected = _sha(reader_file)
    with pytest.raises(ModelError) as err:
        Reader(altered, expected).warm_up()
    message = str(err.value)
    assert str(altered) in message and expected in message and "\n" not in message


@pytest.mark.unit
def test_missing_weights_are_refused_with_the_file_and_expected_checksum(tmp_path):
    with pytest.raises(ModelError) as err:
        Reader(tmp_path / "nothing.onnx", "ab" * 32).logits("Who?", [Candidate("Someone.")])
    assert "nothing.onnx" in str(err.value) and "ab" * 32 in str(err.value)


def test_reader_mode_without_its_weights_fails_instead_of_falling_back(tmp_path, embedder, monkeypatch):
    from conftest import assistant_over

    import assistant.answering.reader as reader_module

    a = assistant_over(tmp_path, embedder, {"note.md": "The office opens at nine.\n"})
    a.answerer.reader = Reader(tmp_path / "missing.onnx", "cd" * 32)
    with pytest.raises(ModelError, match="missing.onnx"):
        a.ask("When does the office open?")
    assert reader_module.READER_FILE == "reader-int8.onnx"


def test_a_long_sentence_is_read_in_windows_never_truncated(encoder):
    question = encoder.pieces(["What is the colour of the sky on the third day?"])[0]
    sentence = encoder.pieces([" ".join(f"word{i}" for i in range(300))])[0]
    rows = encoder.encode_pair(question, sentence, encoder.pieces(["A title"])[0], encoder.pieces(["Some context."])[0])
    assert len(rows) > 1
    assert all(len(ids) <= MAX_TOKENS and len(ids) == len(types) for ids, types in rows)
    read = [i for ids, _ in rows for i in ids]
    assert set(sentence) <= set(read)  # every word piece of the sentence is in some window


def test_short_inputs_keep_question_sentence_title_and_context(encoder):
    q, s, t, c = (encoder.pieces([x])[0] for x in ("Who founded it?", "It was founded by Ada.", "Acme", "Acme is old."))
    [(ids, types)] = encoder.encode_pair(q, s, t, c)
    assert ids[: len(q) + 2] == [encoder.cls, *q, encoder.sep] and types[: len(q) + 2] == [0] * (len(q) + 2)
    assert ids[len(q) + 2 : len(q) + 2 + len(s)] == s
    assert ids[-len(c) - 1 : -1] == c and set(types[len(q) + 2 :]) == {1}


def test_scores_one_probability_per_candidate_and_a_long_one_by_its_best_window(reader):
    short = [Candidate("The museum opened in 1852.", "Museum", "It was built by the city.") for _ in range(3)]
    probs = reader.probabilities("When did the museum open?", short)
    assert probs.shape == (3,) and np.all((probs > 0) & (probs < 1)) and np.allclose(probs, probs[0])
    long = Candidate(" ".join(["The museum opened in 1852."] * 60), "Museum")
    assert reader.logits("When did the museum open?", [long]).shape == (1,)


def test_reader_is_thread_safe(reader):
    cands = [Candidate(f"Sentence number {i} is about cats and dogs.", "Pets") for i in range(6)]
    expected = reader.logits("What about cats?", cands)
    results, errors = [], []

    def work():
        try:
            for _ in range(3):
                results.append(reader.logits("What about cats?", cands))
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 12
    assert all(np.allclose(r, expected, atol=1e-5) for r in results)


def test_reader_path_quotes_by_probability_or_abstains_saying_the_score(tmp_path, embedder, reader):
    from conftest import assistant_over

    a = assistant_over(tmp_path, embedder, {"japan.txt": ARTICLE})
    a.answerer.reader = reader
    a.answerer.reader_threshold = 0.0
    answer = a.ask("Who is Japan's chief negotiator?")
    assert not answer.abstained and answer.citations
    assert all(0.0 < c.score < 1.0 for c in answer.citations)
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    a.answerer.reader_threshold = 1.0
    refused = a.ask("Who is Japan's chief negotiator?")
    assert refused.abstained and not refused.citations and refused.related
    assert refused.abstain_reason == "no sentence answers this"
    assert refused.abstain_detail.startswith("the reader's best probability is 0."), "scores go in the detail"


@pytest.mark.unit
def test_the_shipped_reader_matches_its_checksum_and_model_card():
    from assistant.answering.reader import READER_DIR, READER_FILE, READER_NAME, READER_SHA256

    Reader().verify()  # raises if the file is missing or altered
    card = (READER_DIR / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert READER_SHA256 in card and READER_NAME in card and READER_FILE in card
    assert (READER_DIR / READER_FILE).stat().st_size < 100e6


def test_answering_with_the_shipped_reader_never_imports_torch(settings, assistant):
    code = (
        "import sys; "
        "from assistant import Assistant, Settings; "
        f"a = Assistant.from_settings(Settings(data_dir={str(settings.index.data_dir)!r}, answer_model='reader'), ensure_index=False); "
        "a.ask('Who is Japan\\'s chief negotiator?'); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
