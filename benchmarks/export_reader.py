"""Export a trained reader checkpoint (``benchmarks/train_reader.py``) to the shipped ONNX file.

    python benchmarks/export_reader.py /tmp/reader-run/reader.pt [--out assistant/models/reader]

Writes ``reader-int8.onnx``: the encoder and its logit head, inputs ``input_ids``,
``attention_mask``, ``token_type_ids`` (int64 ``[batch, seq]``), output ``logit`` (float32
``[batch]``), with int8 weights (``onnxruntime.quantization.quantize_dynamic``: every MatMul
but the feed-forward down-projections, which stay float as in the embedder's export, and the
word-piece embedding table). Prints its SHA-256 (for ``assistant/answering/reader.py``) and the largest
difference to the PyTorch model's logits on a few inputs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from index.onnx_embedder import FFN_OUT  # noqa: E402
from assistant.answering.model_home import CONFIG, read_config, write_home  # noqa: E402
from index.packaged_model import sha256_file  # noqa: E402
from train_reader import make_model  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def export(checkpoint: Path, out_dir: Path) -> Path:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    model = make_model(state["layers"])
    model.load_state_dict(state["state"])
    model.eval()
    sample = {
        "input_ids": torch.tensor([[101, 7592, 2088, 102, 2023, 102], [101, 7592, 102, 2023, 102, 0]]),
        "attention_mask": torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]]),
        "token_type_ids": torch.tensor([[0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 0]]),
    }
    names = list(sample)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "reader-int8.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "reader.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, tuple(sample[n] for n in names), str(fp32), input_names=names, output_names=["logit"],
                dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "logit": {0: "batch"}},
                opset_version=17, dynamo=False,
            )
        keep_float = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "MatMul" and FFN_OUT.search(n.name)]
        quantize_dynamic(
            str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True,
            op_types_to_quantize=["MatMul", "Gather"], nodes_to_exclude=keep_float,
        )
    return target


def check(checkpoint: Path, target: Path) -> float:
    """Largest |logit difference| between PyTorch (float32) and the export on random inputs."""
    import onnxruntime as ort

    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    model = make_model(state["layers"])
    model.load_state_dict(state["state"])
    model.eval()
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 20000, (16, 60))
    ids[:, 0], ids[:, 20], ids[:, -1] = 101, 102, 102
    types = np.zeros_like(ids)
    types[:, 21:] = 1
    mask = np.ones_like(ids)
    with torch.no_grad():
        ref = model(torch.tensor(ids), torch.tensor(mask), torch.tensor(types)).numpy()
    sess = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
    return float(np.abs(ref - got).max())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "assistant" / "models" / "reader")
    args = ap.parse_args()
    target = export(args.checkpoint, args.out)
    digest = sha256_file(target)
    config = read_config(args.out) if (args.out / CONFIG).is_file() else {}
    write_home(args.out, {**config, "file": target.name, "sha256": digest}, "Reader")  # the fusion: benchmarks/fit_reader.py --write
    print(f"{target} {target.stat().st_size / 1e6:.1f} MB sha256 {digest} (written to {args.out / CONFIG})")
    print(f"max |logit - float32 PyTorch| on random inputs: {check(args.checkpoint, target):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
