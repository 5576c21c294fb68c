"""Experiment: does the reader's score stacked with the answerability features tell SQuAD 2.0
answerable from unanswerable questions apart better than either alone?

    python benchmarks/fit_reader.py --part dev --rows /tmp/reader/dev-rows.json
    python benchmarks/fit_reader.py --part report --rows /tmp/reader/report-rows.json
    python benchmarks/stack_answerability.py /tmp/reader/dev-rows.json /tmp/reader/report-rows.json

The stack (logistic regression on the best candidate's fused reader log-odds and its seven
answerability features) is fitted on the dev rows (fit documents held out from the reader's
training) and measured on the report rows. Prints the ROC AUC (SQuAD 2.0) of each signal and
the abstention on unanswerable questions at a false abstention of 0.02 and 0.04 (the score alone,
without the other checks). Nothing here ships.
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fit_reader import probs
from assistant.answering.reader import FUSION
from assistant.answering.answerability import AnswerabilityModel
from sklearn.metrics import roc_auc_score
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

FEATS = ["fused", "similarity", "coverage", "missing", "rarest_missing", "terms", "negation"]
model = AnswerabilityModel.load()

def table(path):
    rows = [r for r in json.loads(open(path).read()) if r["logits"]]
    out = []
    for r in rows:
        p = probs(r, FUSION)
        i = int(np.argmax(p))
        j = int(np.argmax([f[0] for f in r["features"]]))  # best by fused: the rules' sentence
        a_best = r["answerability"][i]; a_rules = r["answerability"][j]
        out.append(dict(set=r["set"], imp=r["impossible"], label=int(not r["impossible"]), hit=int(r["labels"][i]),
                        reader_p=float(p[i]), reader_logit=float(r["logits"][i]), max_logit=float(max(r["logits"])),
                        ans_rules=model.probability(a_rules), ans_reader=model.probability(a_best),
                        x=[float(np.log(p[i] / (1 - p[i] + 1e-9) + 1e-9))] + [a_best[f] for f in FEATS]))
    return out

dev, rep = table(sys.argv[1]), table(sys.argv[2])
def auc(rows, key):
    r = [x for x in rows if x["set"].startswith("squad2")]
    return roc_auc_score([x["label"] for x in r], [x[key] if isinstance(key, str) else key(x) for x in r])
for name, rows in (("dev", dev), ("report", rep)):
    print(name, len(rows), "AUC reader", round(auc(rows, "reader_p"), 3), "max logit", round(auc(rows, "max_logit"), 3),
          "answerability(rules sent)", round(auc(rows, "ans_rules"), 3), "answerability(reader sent)", round(auc(rows, "ans_reader"), 3))
# stack fitted on dev (fit documents), measured on report
X = np.array([x["x"] for x in dev]); y = np.array([x["label"] for x in dev])
sc = StandardScaler().fit(X)
lr = LogisticRegression(C=1.0, max_iter=1000).fit(sc.transform(X), y)
print("stack weights", dict(zip(["reader_z"] + FEATS, np.round(lr.coef_[0], 3))), round(float(lr.intercept_[0]), 3))
for name, rows in (("dev", dev), ("report", rep)):
    Xr = sc.transform(np.array([x["x"] for x in rows]))
    pr = lr.predict_proba(Xr)[:, 1]
    for x, p in zip(rows, pr): x["stack"] = float(p)
    print(name, "AUC stack", round(auc(rows, "stack"), 3))
# trade-off on report: threshold so that FA (answerable refused) on each set is F; abstention on squad2 unanswerable
for key in ("reader_p", "ans_rules", "stack"):
    for fa in (0.02, 0.04):
        s2 = [x for x in rep if x["set"].startswith("squad2")]
        ans = np.array([x[key] for x in s2 if x["label"]]); un = np.array([x[key] for x in s2 if not x["label"]])
        t = np.quantile(ans, fa)
        print(f"report squad2 {key}: at FA {fa} abstention on unanswerable {np.mean(un < t):.3f}")
