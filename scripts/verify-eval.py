#!/usr/bin/env python3
"""Precision and recall of `lore verify` for "unsupported" on the labelled set.

usage: scripts/verify-eval.py [--library DIR] [--lore BIN] [--grid]

tests/data/verify/answers.jsonl holds answers as `lore ask --json` printed them (with their
question); tests/data/verify/labelled.jsonl holds each of their sentences judged by hand:
{"answer": index into answers.jsonl, "sentence": text as `lore verify` splits it, "label":
"supported" | "partly_supported" | "unsupported" | "not_checked", "reason": "..."}.
The answers are checked again with `lore verify --json` in the library they were asked in (its
embedding model judges meaning), and the checker's labels compared with the judged ones.
With --grid, labels are also recomputed from each sentence's lexical and cosine scores over a
grid of thresholds (the identifier and number rules of the checker are not replayed there).
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests/data/verify"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--library", default="/tmp/verify-work/sqlite-lib")
    ap.add_argument("--lore", default=str(ROOT / "target/debug/lore"))
    ap.add_argument("--grid", action="store_true")
    args = ap.parse_args()
    answers = [json.loads(l) for l in (DATA / "answers.jsonl").read_text().splitlines() if l.strip()]
    gold = [json.loads(l) for l in (DATA / "labelled.jsonl").read_text().splitlines() if l.strip()]
    out = subprocess.run(
        [args.lore, "--library", args.library, "verify", "--json", str(DATA / "answers.jsonl")],
        capture_output=True, text=True, check=True,
    ).stdout
    checks = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert len(checks) == len(answers), (len(checks), len(answers))
    rows = []
    for g in gold:
        found = [s for s in checks[g["answer"]]["sentences"] if s["text"] == g["sentence"]]
        if not found:
            sys.exit(f"sentence not found in answer {g['answer']}: {g['sentence']!r}")
        rows.append((g, found[0]))
    judged = [(g, s) for g, s in rows if g["label"] != "not_checked" or s["label"] != "not_checked"]
    report("checker", [(g["label"], s["label"]) for g, s in judged], len(rows))
    if args.grid:
        for lex_s in (0.6, 0.7, 0.8):
            for lex_p in (0.3, 0.4, 0.45, 0.5):
                for cos_s in (0.7, 0.75, 0.8):
                    for cos_p in (0.5, 0.55, 0.6, 0.65):
                        pairs = [(g["label"], relabel(s, lex_s, lex_p, cos_s, cos_p)) for g, s in judged]
                        report(f"lex {lex_s}/{lex_p} cos {cos_s}/{cos_p}", pairs, None, brief=True)


def relabel(s, lex_s, lex_p, cos_s, cos_p):
    if s["label"] == "not_checked":
        return "not_checked"
    lex, cos = s["lexical"], s["cosine"] if s["cosine"] is not None else -1
    if lex >= lex_s or cos >= cos_s:
        return "supported"
    if lex >= lex_p or cos >= cos_p:
        return "partly_supported"
    return "unsupported"


def report(name, pairs, total, brief=False):
    tp = sum(1 for g, p in pairs if g == "unsupported" and p == "unsupported")
    fp = sum(1 for g, p in pairs if g != "unsupported" and p == "unsupported")
    fn = sum(1 for g, p in pairs if g == "unsupported" and p != "unsupported")
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    acc = sum(1 for g, p in pairs if g == p) / len(pairs) if pairs else float("nan")
    if brief:
        print(f"{name}: unsupported P {prec:.2f} R {rec:.2f} accuracy {acc:.2f}")
        return
    print(f"{name}: {len(pairs)} sentences judged by both (of {total} labelled)")
    print(f"  unsupported: precision {prec:.2f} ({tp}/{tp + fp}), recall {rec:.2f} ({tp}/{tp + fn})")
    print(f"  accuracy over three labels: {acc:.2f}")
    labels = ["supported", "partly_supported", "unsupported"]
    print("  confusion (rows: judged, columns: checker): " + " ".join(l[:6] for l in labels))
    for g in labels:
        print(f"    {g:17}" + " ".join(f"{sum(1 for a, b in pairs if a == g and b == p):6}" for p in labels))


if __name__ == "__main__":
    main()
