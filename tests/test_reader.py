"""The reader: the shipped cross-encoder, its integrity check, its inputs, its use in answers."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

from assistant.reader import READER_DIR, READER_FILE, READER_SHA256, Candidate, Reader, make_reader
from assistant.reader_input import MAX_TOKENS, PairEncoder
from index.embedder import _PackagedModel
from index.errors import ModelError


@pytest.fixture(scope="module")
def encoder():
    return PairEncoder(_PackagedModel(None, False).tokenizer)


def test_shipped_weights_match_their_checksum():
    Reader().verify()  # raises on a mismatch
    assert (READER_DIR / "MODEL_CARD.md").is_file()
    assert (READER_DIR / READER_FILE).stat().st_size < 100e6


def test_altered_weights_are_refused_with_the_file_and_expected_checksum(tmp_path):
    altered = tmp_path / READER_FILE
    shutil.copy(READER_DIR / READER_FILE, altered)
    with altered.open("r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelError) as err:
        Reader(altered).warm_up()
    message = str(err.value)
    assert str(altered) in message and READER_SHA256 in message and "\n" not in message


def test_missing_weights_are_refused_with_the_file_and_expected_checksum(tmp_path):
    with pytest.raises(ModelError) as err:
        Reader(tmp_path / "nothing.onnx").logits("Who?", [Candidate("Someone.")])
    assert "nothing.onnx" in str(err.value) and READER_SHA256 in str(err.value)


def test_a_long_sentence_is_read_in_windows_never_truncated(encoder):
    question = encoder.pieces(["What is the colour of the sky on the third day?"])[0]
    sentence = encoder.pieces([" ".join(f"word{i}" for i in range(300))])[0]
    rows = encoder.encode_pair(question, sentence, encoder.pieces(["A title"])[0], encoder.pieces(["Some context."])[0])
    assert len(rows) > 1
    assert all(len(ids) <= MAX_TOKENS and len(ids) == len(types) for ids, types in rows)
    read = [i for ids, _ in rows for i in ids]
    # Every word piece of the sentence is in some window.
    assert set(sentence) <= set(read)


def test_short_inputs_keep_question_sentence_title_and_context(encoder):
    q, s, t, c = (encoder.pieces([x])[0] for x in ("Who founded it?", "It was founded by Ada.", "Acme", "Acme is old."))
    [(ids, types)] = encoder.encode_pair(q, s, t, c)
    assert ids[: len(q) + 2] == [encoder.cls, *q, encoder.sep] and types[: len(q) + 2] == [0] * (len(q) + 2)
    assert ids[len(q) + 2 : len(q) + 2 + len(s)] == s
    assert ids[-len(c) - 1 : -1] == c and set(types[len(q) + 2 :]) == {1}


def test_the_reader_prefers_the_answering_sentence():
    reader = make_reader()
    question = "When did the museum open to the public?"
    candidates = [
        Candidate("The museum has a large collection of paintings.", "City Museum"),
        Candidate("The museum opened to the public in 1852.", "City Museum", "It was built by the city council."),
        Candidate("Parking is available nearby.", "City Museum"),
    ]
    probs = reader.probabilities(question, candidates)
    assert probs.shape == (3,) and np.all((probs > 0) & (probs < 1))
    assert int(np.argmax(probs)) == 1


def test_reader_is_thread_safe():
    reader = make_reader()
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


def test_answers_carry_reader_probabilities_and_abstention_says_the_score(assistant):
    answer = assistant.ask("Who is Japan's chief negotiator?")
    assert not answer.abstained
    assert all(0.0 < c.score < 1.0 for c in answer.citations)
    refused = assistant.ask("What is the boiling point of mercury in kelvin?")
    assert refused.abstained and "closest one scored" in refused.abstain_reason


def test_answering_process_never_imports_torch(assistant, settings):
    code = (
        "import sys; from assistant import Assistant, Settings; "
        f"a = Assistant.from_settings(Settings(data_dir={str(settings.data_dir)!r}), ensure_index=False); "
        "a.ask('Who is Japan\\'s chief negotiator?'); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
