"""The index fingerprint covers the whole model pipeline: a model folder with the same weights
plus a Dense head (384 -> 128) is another model. It is detected in one line, `index --rebuild`
with it works and leaves no incomplete build, and the ONNX backend (which runs only the
packaged Transformer + mean pooling + Normalize) refuses it in one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.core import Assistant
from assistant.errors import StoreError
from assistant.settings import Settings
from index import build_index, make_embedder
from index.packaged_model import packaged_model_path
from test_safety import FACT

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How many seals did Odile Varga count?"


@pytest.fixture(scope="module")
def dense_model(tmp_path_factory) -> Path:
    """The packaged model folder (same weights file, hard-linked) with a Dense 384 -> 128 module before Normalize."""
    import torch
    from sentence_transformers.models import Dense

    target = tmp_path_factory.mktemp("dense-model") / "model"

    def link_weights(src, dst):
        return os.link(src, dst) if Path(src).name == "model.safetensors" else shutil.copy2(src, dst)

    shutil.copytree(packaged_model_path(), target, copy_function=link_weights)
    torch.manual_seed(0)
    (target / "2_Dense").mkdir()
    Dense(384, 128, activation_function=torch.nn.Identity()).save(str(target / "2_Dense"))
    modules = json.loads((target / "modules.json").read_text(encoding="utf-8"))
    dense = {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}
    modules = modules[:2] + [dense] + [{**modules[2], "idx": 3, "name": "3"}]
    (target / "modules.json").write_text(json.dumps(modules, indent=2), encoding="utf-8")
    return target


def _cli(*args: str, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    environ.update({"PYTHONPATH": str(ROOT), **env})
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=timeout, env=environ, cwd=ROOT)


def test_the_embedder_reports_the_pipelines_output_dimension(dense_model, embedder):
    other = make_embedder("torch", dense_model)
    assert other.dimension == 128 and other.name != embedder.name and "Dense" in other.name
    assert other.embed_query(["a question", "another"]).shape == (2, 128)  # questions too: never the 384-d ONNX export
    assert other.embed_documents([f"text {i}" for i in range(10)]).shape == (10, 128)


def test_a_dense_head_is_detected_in_one_line_and_rebuild_works(tmp_path, embedder, dense_model):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "seals.txt").write_text("Seal survey\n\n" + FACT, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", index_check_seconds=0)
    build_index([folder], settings.open_store(), embedder, progress=False)

    dense_settings = settings.replace(model_path=dense_model)
    refused = Assistant(dense_settings, dense_settings.open_store(), make_embedder("torch", dense_model))
    with pytest.raises(StoreError) as err:
        refused.ask(QUESTION)
    assert "\n" not in str(err.value) and "Dense" in str(err.value) and "--rebuild" in str(err.value)

    env = {"ASSISTANT_DATA_DIR": str(settings.index.data_dir), "ASSISTANT_MODEL_PATH": str(dense_model)}
    r = _cli("index", "--rebuild", "-q", env=env)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    store = settings.open_store()
    assert all(done for _, done in store.builds()), "no incomplete build is left"
    assert store.active_build().dimension == 128
    r = _cli("ask", QUESTION, "--json", env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["citations"][0]["doc_id"] == "seals.txt"

    r = _cli("ask", QUESTION, env={**env, "ASSISTANT_EMBEDDING_BACKEND": "onnx-int8"})
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1 and "Dense" in lines[0] and "torch" in lines[0], r.stderr[-2000:]


def _saved_by_sentence_transformers_6(folder: Path) -> Path:
    """The packaged model as ``SentenceTransformer.save`` of sentence-transformers 6 writes it:
    no ``max_seq_length`` in sentence_bert_config.json, ``model_max_length`` 256 in
    tokenizer_config.json, pooling as ``"pooling_mode": "mean"`` (weights linked, not copied;
    the configs written as that version writes them)."""
    src = packaged_model_path()
    folder.mkdir()
    for f in src.iterdir():
        if f.is_file():
            (folder / f.name).symlink_to(f)
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"embedding_dimension": 384, "pooling_mode": "mean", "include_prompt": True}))
    tokenizer = json.loads((src / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").unlink()  # save() writes the running limit (256) as the tokenizer's
    (folder / "tokenizer_config.json").write_text(json.dumps({**tokenizer, "model_max_length": 256}))
    (folder / "sentence_bert_config.json").unlink()
    (folder / "sentence_bert_config.json").write_text(json.dumps({"transformer_task": "feature-extraction", "module_output_name": "token_embeddings"}))
    return folder


def test_a_folder_without_max_seq_length_takes_the_tokenizers_limit(tmp_path):
    from index.errors import ModelError
    from index.packaged_model import PackagedModel

    model = PackagedModel(_saved_by_sentence_transformers_6(tmp_path / "st6"), verify=True)
    assert model.max_tokens == 254  # min(512 positions, 256 tokenizer limit) - [CLS] - [SEP]: the packaged model's own
    assert model.pipeline is None and model.name == "sentence-transformers/all-MiniLM-L6-v2"
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text(json.dumps({"hidden_size": 384}))
    with pytest.raises(ModelError) as err:
        PackagedModel(bare, verify=False).max_tokens
    assert "states no input length" in str(err.value) and "\n" not in str(err.value)
