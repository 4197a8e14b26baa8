#!/usr/bin/env bash
# Starts or stops the local chat model server (llama.cpp's llama-server with the model that
# scripts/setup-chat-model.sh installed), on 127.0.0.1.
#
#   scripts/chat-server.sh start [PORT]   # default port 8088; prints the base URL when healthy
#   scripts/chat-server.sh stop
#   scripts/chat-server.sh status
#
# Environment: LORE_LLM_DIR (default ~/.cache/lore-llm), LORE_LLM_CTX (context size, default 4096),
# LORE_LLM_THREADS (default: all cores).
set -euo pipefail
W=${LORE_LLM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lore-llm}
PIDFILE="$W/server.pid"
PORTFILE="$W/server.port"
MODEL="$W/models/qwen2.5-0.5b-instruct.gguf"

healthy() {
  python3 - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

case "${1:-}" in
  start)
    PORT=${2:-8088}
    if running; then
      echo "http://127.0.0.1:$(cat "$PORTFILE")/v1"; exit 0
    fi
    [ -x "$W/bin/llama-server" ] && [ -f "$MODEL" ] || { echo "no chat server in $W: run scripts/setup.sh" >&2; exit 1; }
    nohup "$W/bin/llama-server" -m "$MODEL" --host 127.0.0.1 --port "$PORT" \
      -c "${LORE_LLM_CTX:-4096}" -np 1 -t "${LORE_LLM_THREADS:-$(nproc)}" --alias qwen2.5-0.5b-instruct \
      >"$W/server.log" 2>&1 &
    echo $! >"$PIDFILE"; echo "$PORT" >"$PORTFILE"
    for _ in $(seq 1 240); do
      if healthy "$PORT"; then echo "http://127.0.0.1:$PORT/v1"; exit 0; fi
      running || { tail -n 20 "$W/server.log" >&2; exit 1; }
      sleep 0.5
    done
    echo "chat server did not become healthy in 120 s; log: $W/server.log" >&2; exit 1
    ;;
  stop)
    if running; then kill "$(cat "$PIDFILE")"; fi
    rm -f "$PIDFILE" "$PORTFILE"
    ;;
  status)
    if running && healthy "$(cat "$PORTFILE")"; then echo "http://127.0.0.1:$(cat "$PORTFILE")/v1"; else echo "not running"; exit 1; fi
    ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
