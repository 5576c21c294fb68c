"""Experiment (nothing ships): a cross-encoder trained only to tell answerable from unanswerable
SQuAD 2.0 questions, each read with the sentence holding its gold or plausible answer (an oracle
sentence, so retrieval cannot be blamed).

    LAYERS=6 EPOCHS=3 LR=5e-5 MINUTES=25 python benchmarks/answerability_probe.py

Data: SQuAD 2.0's fit documents (``benchmarks/data/split.json``); the reader's ``DEV`` articles
pick the best checkpoint (ROC AUC, every 100 steps); the report documents measure it. Initialised
from the packaged all-MiniLM-L6-v2 (``train_reader.make_model``), binary cross-entropy, AdamW,
6 % warm-up then linear decay, batches of 32, float32, seed 13; stops after ``MINUTES``.
"""
import math
import os
import random
import sys
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import numpy as np, torch
import reader_data
from train_reader import DEV, make_model, pad
from assistant.answering.reader_input import PairEncoder
from index.packaged_model import PackagedModel
from sklearn.metrics import roc_auc_score

LAYERS = int(os.environ.get("LAYERS", "6")); EPOCHS = float(os.environ.get("EPOCHS", "3")); LR = float(os.environ.get("LR", "5e-5"))
MINUTES = float(os.environ.get("MINUTES", "25"))
torch.manual_seed(13); random.seed(13); torch.set_num_threads(2)
pm = PackagedModel(None, False); enc = PairEncoder(pm.tokenizer)
ds = Path(os.environ.get("DATASETS", str(Path(__file__).resolve().parents[2] / "shared" / "datasets")))
def pairs(part):
    docs, qs = reader_data.load(ds, part, pm.count_tokens)
    out = []
    for q in qs:
        if not q.set_name.startswith("squad2"): continue
        d = docs[q.doc]
        js = [j for j, s in enumerate(d.sentences) if reader_data.label(s, q.gold) == 1]
        if not js: continue
        j = js[0]
        qi, si, ti = enc.pieces([q.question, d.text[slice(*d.sentences[j])], d.title])
        ci = enc.pieces([d.text[slice(*d.sentences[j - 1])]])[0] if j else []
        ids, types = enc.encode_pair(qi, si, ti, ci)[0]
        out.append((ids, types, int(not q.impossible), d.title))
    return out
t0 = time.time()
fit = pairs("fit"); report = pairs("report")
dev_titles = {t.replace("_", " ") for t in DEV["squad2-dev-25-articles.json"]}
train = [p for p in fit if p[3] not in dev_titles]; dev = [p for p in fit if p[3] in dev_titles]
print(f"pairs: train {len(train)} ({sum(1-p[2] for p in train)} unanswerable), dev {len(dev)}, report {len(report)}; {time.time()-t0:.0f}s", flush=True)
model = make_model(LAYERS)
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=LR, weight_decay=0.01)
B = 32; steps = int(math.ceil(len(train) / B) * EPOCHS); warm = int(0.06 * steps)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, warm)) * max(0.0, 1 - s / steps))
def score(rows):
    model.eval(); out = []
    with torch.no_grad():
        order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
        res = {}
        for b in range(0, len(order), 64):
            idx = order[b:b+64]; ids, mask, types = pad([rows[i] for i in idx])
            for i, z in zip(idx, model(ids, mask, types).tolist()): res[i] = z
    model.train(); return np.array([res[i] for i in range(len(rows))])
def auc(rows): return roc_auc_score([r[2] for r in rows], score(rows))
print("before training: dev AUC", round(auc(dev), 3), flush=True)
step = 0; start = time.time(); best = (0, None)
rng = random.Random(13)
while step < steps and time.time() - start < MINUTES * 60:
    order = list(range(len(train))); rng.shuffle(order)
    for b in range(0, len(order), B):
        batch = [train[i] for i in order[b:b+B]]
        ids, mask, types = pad(batch); y = torch.tensor([r[2] for r in batch], dtype=torch.float32)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(ids, mask, types), y)
        loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); sched.step(); opt.zero_grad(); step += 1
        if step % 100 == 0 or step == steps:
            a = auc(dev); el = time.time() - start
            print(f"step {step}/{steps} {el:.0f}s {step*B/el:.1f} pairs/s loss {loss.item():.3f} dev AUC {a:.3f}", flush=True)
            if a > best[0]: best = (a, {k: v.clone() for k, v in model.state_dict().items()}, step)
        if step >= steps or time.time() - start > MINUTES * 60: break
if best[1] is not None:
    model.load_state_dict(best[1])
    print(f"best dev AUC {best[0]:.3f} (step {best[2]} of {step}); report AUC {auc(report):.3f}", flush=True)
else:
    print(f"no dev evaluation ran (MINUTES too short); untrained report AUC {auc(report):.3f}", flush=True)
s = score(report); y = np.array([r[2] for r in report])
for fa in (0.02, 0.04, 0.1):
    t = np.quantile(s[y == 1], fa); print(f"report: at FA {fa} abstention on unanswerable {np.mean(s[y == 0] < t):.3f}")
