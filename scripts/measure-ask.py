#!/usr/bin/env python3
"""Asks N Python FAQ dev-set questions through `lore ask` and the configured chat model, and reports
how many answers cite the section that holds the answer, and the time to the request leaving and
to the first token.

usage: LORE_LLM_BASE_URL=http://127.0.0.1:8088/v1 scripts/measure-ask.py [N] [--lore PATH]

The library (the Python FAQ HTML pages of ../shared/data) is built in a temporary LORE_HOME. A
question's answer section is the FAQ entry whose heading is the question itself.
"""
import json, os, statistics, subprocess, sys, tempfile, unicodedata

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 20
lore = sys.argv[sys.argv.index("--lore") + 1] if "--lore" in sys.argv else os.path.join(root, "target/debug/lore")
data = os.path.join(root, "../shared/data")
queries = [json.loads(l) for l in open(os.path.join(data, "eval/pyfaq/queries.jsonl")) if l.strip()]
step = max(1, len(queries) // n)
picked = queries[::step][:n]

def norm(s):
    s = unicodedata.normalize("NFKC", s).replace("’", "'").replace("“", '"').replace("”", '"')
    return " ".join(s.lower().split())

home = tempfile.mkdtemp(prefix="lore-measure-")
env = dict(os.environ, LORE_HOME=home, NO_COLOR="1")
subprocess.run([lore, "add", os.path.join(data, "docs/html/python3.11-faq")], env=env, check=True,
               stdout=subprocess.DEVNULL)
right, sent, first, total, rows = 0, [], [], [], []
for q in picked:
    out = subprocess.run([lore, "ask", "--json", q["text"]], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        rows.append((q["text"], "error: " + out.stderr.strip()[:120]))
        continue
    a = json.loads(out.stdout)
    t = a["timings"]
    if t.get("request_sent_ms") is not None:
        sent.append(t["request_sent_ms"])
    if t.get("first_token_ms") is not None:
        first.append(t["first_token_ms"])
    total.append(t["total_ms"])
    ok = any(norm(c.get("section") or "").endswith(norm(q["text"])) for c in a["citations"])
    right += ok
    rows.append((q["text"], ("right" if ok else "wrong") + f" {[c.get('section') for c in a['citations']]}"))
for text, verdict in rows:
    print(f"{verdict[:110]:<110}  {text}")
def p(v, q):
    return statistics.quantiles(v, n=100)[q - 1] if len(v) >= 2 else (v[0] if v else float("nan"))
print(f"\n{right}/{len(picked)} answers cite the section holding the answer (mode {a['mode']}, model {a['model']})")
print(f"request sent after: median {statistics.median(sent):.0f} ms (p95 {p(sent, 95):.0f})")
print(f"first token after:  median {statistics.median(first):.0f} ms (p95 {p(first, 95):.0f})")
print(f"whole answer:       median {statistics.median(total):.0f} ms")
