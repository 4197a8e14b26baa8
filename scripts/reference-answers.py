#!/usr/bin/env python3
"""Writes reference answers for a BEIR-layout FAQ set: answers.jsonl, one line per judged query,
{"_id": query id, "answer": text}, for `lore eval --answers` (its "cites the reference answer"
figure).

    scripts/reference-answers.py SET_DIR [OUT_DIR]

In an FAQ set each question is judged against the one section that answers it, and that section's
text is the answer (the build leaves the question out). The reference answer is its lead: the
first two sentences, cut at 60 words. FAQ answers state the answer first ("Yes. ...", "Use ...",
"Because ..."), and a passage that holds the lead holds the answer; a later chunk of a long
section, which continues the topic, does not. Queries judged against several sections, and leads of fewer than
six words ("See the next question."), are left out. OUT_DIR defaults to SET_DIR. Python 3.11 standard library only.
"""

import json
import re
import sys
from pathlib import Path

MAX_WORDS = 60
SENTENCES = 2
MIN_WORDS = 6


def lead(text: str) -> str:
    """The first SENTENCES sentences of text, at most MAX_WORDS words."""
    text = " ".join(text.split())
    # A sentence ends at . ! ? (or a CJK full stop) followed by a space, or at a CJK stop.
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(`])|(?<=[。！？])", text)
    out = " ".join(p for p in parts[:SENTENCES] if p).strip()
    words = out.split(" ")
    if len(words) > MAX_WORDS:
        out = " ".join(words[:MAX_WORDS])
    return out


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    src = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) == 3 else src
    corpus = {}
    with open(src / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            corpus[d["_id"]] = d.get("text") or d.get("title", "")
    judged = {}
    with open(src / "qrels.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            q, c, s = line.rstrip("\n").split("\t")
            if int(s) > 0:
                judged.setdefault(q, []).append(c)
    lines = []
    with open(src / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            sections = judged.get(q["_id"], [])
            if len(sections) != 1 or sections[0] not in corpus:
                continue
            answer = lead(corpus[sections[0]])
            # A pointer ("See the next question.") is no answer to look for.
            if len(answer.split()) >= MIN_WORDS or re.search(r"[\u3040-\u9fff]", answer):
                lines.append(json.dumps({"_id": q["_id"], "answer": answer}, ensure_ascii=False))
    out.mkdir(parents=True, exist_ok=True)
    (out / "answers.jsonl").write_text("".join(l + "\n" for l in lines), encoding="utf-8")
    print(f"{out / 'answers.jsonl'}: {len(lines)} reference answers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
