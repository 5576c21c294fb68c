"""Train the reader: a cross-encoder that scores (question, candidate sentence) pairs.

    python benchmarks/train_reader.py [--layers 3] [--epochs 3] [--minutes 32] [--out DIR]

The defaults are the recipe of the shipped reader (assistant/models/reader/MODEL_CARD.md);
run it on an otherwise idle machine (on 2 cores about 60 pairs/s; shared, as low as 8).

Initialised from the packaged all-MiniLM-L6-v2 weights (its first ``--layers`` layers; the
word-piece embeddings stay frozen), one logit from the mean of the last hidden states. Data:
the *fit* documents of every public set (``benchmarks/data/split.json``), some of which are
held out (``DEV``) for early stopping and calibration; see :mod:`reader_data` for the pairs.
Each epoch every question keeps its positives and ``--negatives`` of its (hard) negatives,
drawn anew. Loss: binary cross-entropy on every pair plus a listwise softmax cross-entropy
over each answerable question's candidates (and, with ``--null``, a no-answer option). bfloat16
autocast on CPUs that compute it natively (AMX, AVX512-BF16), float32 elsewhere; seed fixed.

Writes ``--out``/``reader.pt`` (best dev checkpoint) and ``train.json`` (counts, time, results).
``benchmarks/export_reader.py`` turns the checkpoint into the shipped ONNX file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import reader_data  # noqa: E402
from assistant.answering.reader_input import PairEncoder  # noqa: E402
from index.embedder import SentenceTransformerEmbedder, cpu_has_native_bfloat16  # noqa: E402
from index.packaged_model import PackagedModel  # noqa: E402

BF16 = cpu_has_native_bfloat16()
"""Train and score in bfloat16 autocast only where the CPU computes it natively: emulated
bfloat16 (e.g. on an AMD EPYC without AVX512-BF16) is several times slower than float32."""

SEED = 13
DEV = {  # fit documents held out for early stopping, calibration and thresholds
    "squad2-dev-25-articles.json": ["Force", "Private_school", "Southern_California"],
    "squad11-dev-13-articles.json": ["Doctor_Who", "Chloroplast"],
    "policyqa-dev.json": ["fool.com", "kaleidahealth.org", "style.com"],
}


class Reader(torch.nn.Module):
    """BERT encoder + mean pooling + one linear logit."""

    def __init__(self, bert) -> None:
        super().__init__()
        self.bert = bert
        self.head = torch.nn.Linear(bert.config.hidden_size, 1)

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(mean).squeeze(-1)


def make_model(layers: int) -> Reader:
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(PackagedModel(None, False).model_dir), num_hidden_layers=layers, add_pooling_layer=False, local_files_only=True)
    bert.embeddings.word_embeddings.weight.requires_grad_(False)
    return Reader(bert)


def pad(rows):
    n = max(len(r[0]) for r in rows)
    ids = torch.zeros((len(rows), n), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for i, (a, t, *_) in enumerate(rows):
        ids[i, : len(a)] = torch.tensor(a)
        types[i, : len(t)] = torch.tensor(t)
        mask[i, : len(a)] = 1
    return ids, mask, types


def subsample(groups, negatives: int, rng: random.Random, keep=None):
    """Each question's positives, the rows ``keep[i]`` names (an unanswerable question's
    plausible-answer sentences), and at most ``negatives`` of its other negatives, drawn anew
    each epoch (every candidate is a hard one: top-ranked by BM25 or the bi-encoder)."""
    if negatives <= 0:
        return groups
    out = []
    for i, g in enumerate(groups):
        kept = set(keep[i]) if keep else set()
        pos = [r for k, r in enumerate(g) if r[2] or k in kept]
        neg = [r for k, r in enumerate(g) if not r[2] and k not in kept]
        out.append(pos + rng.sample(neg, min(negatives, len(neg))))
    return out


def plausible_rows(docs, questions) -> list[list[int]]:
    """Per question, the candidate rows holding a SQuAD 2.0 plausible answer (empty if answerable)."""
    return [
        [k for k, j in enumerate(q.candidates) if reader_data.label(docs[q.doc].sentences[j], q.gold) != 0] if q.impossible else []
        for q in questions
    ]


def batches(groups, pairs_per_batch: int, rng: random.Random):
    """Question groups shuffled, then packed (by length within buckets) into batches of about ``pairs_per_batch`` pairs."""
    order = list(range(len(groups)))
    rng.shuffle(order)
    bucket = 50
    out = []
    for b in range(0, len(order), bucket * 4):
        chunk = sorted(order[b : b + bucket * 4], key=lambda g: max(len(r[0]) for r in groups[g]))
        cur, size = [], 0
        for g in chunk:
            cur.append(g)
            size += len(groups[g])
            if size >= pairs_per_batch:
                out.append(cur)
                cur, size = [], 0
        if cur:
            out.append(cur)
    rng.shuffle(out)
    return out


def loss_of(logits, labels, sizes, listwise: float, null: float = 0.0):
    """Binary cross-entropy on every pair, plus ``listwise`` x a softmax cross-entropy over each
    answerable question's candidates, plus ``null`` x the same softmax with a "no answer" option
    of fixed logit 0 added, for every question (its target: the positives, or the null option
    for an unanswerable question). The null term trains what abstention uses, the best
    candidate's logit against a fixed threshold, as SQuAD 2.0 readers score no-answer with the
    [CLS] position (Devlin et al. 2019, section 4.3)."""
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    parts, nulls, start = [], [], 0
    zero = logits.new_zeros(1)
    for n in sizes:
        lg, lb = logits[start : start + n], labels[start : start + n]
        start += n
        if lb.sum() > 0:
            parts.append(torch.logsumexp(lg, 0) - torch.logsumexp(lg.masked_fill(lb == 0, -1e4), 0))
        if null:
            full = torch.logsumexp(torch.cat([lg, zero]), 0)
            target = torch.logsumexp(lg.masked_fill(lb == 0, -1e4), 0) if lb.sum() > 0 else zero[0]
            nulls.append(full - target)
    lw = torch.stack(parts).mean() if parts else logits.new_zeros(())
    ln = torch.stack(nulls).mean() if nulls else logits.new_zeros(())
    return bce + listwise * lw + null * ln


@torch.no_grad()
def score(model, groups, batch_pairs: int = 128) -> list[np.ndarray]:
    model.eval()
    flat = [(gi, r) for gi, g in enumerate(groups) for r in g]
    order = sorted(range(len(flat)), key=lambda i: len(flat[i][1][0]))
    out = np.zeros(len(flat), dtype=np.float32)
    for b in range(0, len(order), batch_pairs):
        idx = order[b : b + batch_pairs]
        ids, mask, types = pad([flat[i][1] for i in idx])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=BF16):
            out[idx] = model(ids, mask, types).float().numpy()
    model.train()
    res, start = [], 0
    for g in groups:
        res.append(out[start : start + len(g)])
        start += len(g)
    return res


def evaluate(scores, groups, questions) -> dict:
    """Top-1 among the candidates (answerable), AUC of the best probability (answerable vs SQuAD 2.0 unanswerable)."""
    per: dict[str, list] = {}
    best_ans, best_imp = [], []
    for s, g, q in zip(scores, groups, questions):
        labels = np.array([r[2] for r in g])
        top = float(1 / (1 + math.exp(-float(s.max()))))
        if q.impossible:
            best_imp.append(top)
            continue
        if q.set_name.startswith("squad2"):
            best_ans.append(top)
        if labels.sum():
            per.setdefault(q.set_name, []).append(float(labels[int(np.argmax(s))]))
    res = {name: round(float(np.mean(v)), 4) for name, v in per.items()}
    if best_ans and best_imp:
        a, i = np.array(best_ans), np.array(best_imp)
        res["auc_squad2"] = round(float((a[:, None] > i[None, :]).mean() + 0.5 * (a[:, None] == i[None, :]).mean()), 4)
    res["top1_mean"] = round(float(np.mean([v for k, v in res.items() if k.endswith(".json")])), 4)
    return res


def prepare(datasets: Path, cache: Path | None):
    if cache and cache.is_file():
        import pickle

        return pickle.loads(cache.read_bytes())
    model = PackagedModel(None, False)
    encoder = PairEncoder(model.tokenizer)
    docs, questions = reader_data.load(datasets, "fit", model.count_tokens)
    bi = SentenceTransformerEmbedder()
    memo_file = cache.with_suffix(".embeddings.pkl") if cache else None
    import pickle

    memo = pickle.loads(memo_file.read_bytes()) if memo_file and memo_file.is_file() else {}

    def embed(texts):
        missing = [t for t in dict.fromkeys(texts) if t not in memo]
        if missing:
            memo.update(zip(missing, bi.embed(missing)))
        return np.stack([memo[t] for t in texts])

    reader_data.add_candidates(docs, questions, embed, seed=SEED)
    if memo_file:
        memo_file.write_bytes(pickle.dumps(memo))
    groups = reader_data.encode(encoder, docs, questions)
    dev_titles = {(s, t.replace("_", " ")) for s, ts in DEV.items() for t in ts}
    is_dev = [(docs[q.doc].set_name, docs[q.doc].title) in dev_titles for q in questions]
    data = (docs, questions, groups, is_dev)
    if cache:
        import pickle

        cache.write_bytes(pickle.dumps(data))
    return data


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=Path("/work/shared/datasets"))
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--minutes", type=float, default=32.0, help="stop training after this many minutes (wall clock)")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch-pairs", type=int, default=64)
    ap.add_argument("--listwise", type=float, default=0.5)
    ap.add_argument("--null", type=float, default=0.0, help="weight of the no-answer softmax term (see loss_of)")
    ap.add_argument("--negatives", type=int, default=6, help="negatives per question per epoch (0 = all candidates)")
    ap.add_argument("--eval-every", type=int, default=400, help="steps between dev evaluations")
    ap.add_argument("--dev-sample", type=int, default=600, help="dev questions scored at each evaluation")
    ap.add_argument("--init", type=Path, default=None, help="continue from this checkpoint (its weights; a new schedule)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/reader-run"))
    ap.add_argument("--cache", type=Path, default=None, help="pickle of the prepared pairs (reused when present)")
    args = ap.parse_args(argv)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    t0 = time.time()
    docs, questions, groups, is_dev = prepare(args.datasets, args.cache)
    train = [i for i, d in enumerate(is_dev) if not d]
    dev = [i for i, d in enumerate(is_dev) if d]
    counts = {
        "documents": len(docs), "questions_train": len(train), "questions_dev": len(dev),
        "pairs_train": sum(len(groups[i]) for i in train), "positives_train": sum(r[2] for i in train for r in groups[i]),
        "unanswerable_train": sum(questions[i].impossible for i in train), "prepare_seconds": round(time.time() - t0, 1),
    }
    print(json.dumps(counts), flush=True)
    model = make_model(args.layers)
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu", weights_only=False)["state"])
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    rng = random.Random(SEED)
    tr_groups = [groups[i] for i in train]
    plausible = plausible_rows(docs, questions)
    tr_keep = [plausible[i] for i in train]
    steps_per_epoch = len(batches(subsample(tr_groups, args.negatives, random.Random(0), tr_keep), args.batch_pairs, random.Random(0)))
    total = int(steps_per_epoch * args.epochs)
    warm = max(1, total // 20)
    # The learning rate follows the schedule by steps or by wall-clock time, whichever is
    # further along: on a shared CPU the step rate is unknown in advance, and the run must end
    # (decayed) by --minutes.
    t_start = time.time()

    def progress(s: int) -> float:
        return max(s / max(1, total), (time.time() - t_start) / (args.minutes * 60))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (1 - progress(s)) / 0.95)))
    dev_sample = sorted(random.Random(SEED).sample(dev, min(args.dev_sample, len(dev))))
    dev_groups, dev_q = [groups[i] for i in dev_sample], [questions[i] for i in dev_sample]
    args.out.mkdir(parents=True, exist_ok=True)
    best, step, pairs, t_train, history = -1.0, 0, 0, time.time(), []
    deadline = t_train + args.minutes * 60
    done = False
    while not done:
        epoch_groups = subsample(tr_groups, args.negatives, rng, tr_keep)
        for batch in batches(epoch_groups, args.batch_pairs, rng):
            rows = [r for g in batch for r in epoch_groups[g]]
            ids, mask, types = pad(rows)
            labels = torch.tensor([float(r[2]) for r in rows])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=BF16):
                logits = model(ids, mask, types).float()
            loss = loss_of(logits, labels, [len(epoch_groups[g]) for g in batch], args.listwise, args.null)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            pairs += len(rows)
            if step % 25 == 0:
                el = time.time() - t_train
                print(f"step {step}/{total} loss {loss.item():.4f} pairs/s {pairs / el:.1f} elapsed {el / 60:.1f} min", flush=True)
            last = step >= total or time.time() > deadline
            if step % 200 == 0:
                torch.save({"state": model.state_dict(), "layers": args.layers, "step": step}, args.out / "last.pt")
            if step % args.eval_every == 0 or last:
                res = evaluate(score(model, dev_groups), dev_groups, dev_q)
                res["step"] = step
                history.append(res)
                print("dev", json.dumps(res), flush=True)
                key = res["top1_mean"] + res.get("auc_squad2", 0.0)
                if key > best:
                    best = key
                    torch.save({"state": model.state_dict(), "layers": args.layers, "step": step, "dev": res}, args.out / "reader.pt")
            if last:
                done = True
                break
    summary = {
        **counts, "seed": SEED, "bfloat16": BF16, "init": str(args.init) if args.init else None, "layers": args.layers, "lr": args.lr, "listwise": args.listwise, "null": args.null, "negatives": args.negatives, "batch_pairs": args.batch_pairs,
        "steps": step, "steps_planned": total, "pairs_seen": pairs, "train_minutes": round((time.time() - t_train) / 60, 1),
        "pairs_per_second": round(pairs / (time.time() - t_train), 1), "dev_history": history,
        "dev_baseline": dev_baselines(dev_groups, dev_q, docs, questions, dev),
    }
    (args.out / "train.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "dev_history"}), flush=True)
    return 0


def dev_baselines(dev_groups, dev_q, docs, questions, dev) -> dict:
    """Top-1 of the candidate order itself (BM25 first, then bi-encoder): what the reader must beat."""
    per: dict[str, list] = {}
    for g, q in zip(dev_groups, dev_q):
        if not q.impossible and any(r[2] for r in g):
            per.setdefault(q.set_name, []).append(float(g[0][2]))
    return {k: round(float(np.mean(v)), 4) for k, v in per.items()}


if __name__ == "__main__":
    raise SystemExit(main())
