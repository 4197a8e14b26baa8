#!/usr/bin/env bash
# Starts or stops a real Qdrant server (the upstream v1.18.3 build in ../shared/bin/qdrant.xz) on
# 127.0.0.1, for the tests and measurements of lore's server backend.
#
#   scripts/qdrant.sh start [PORT]     # one node; gRPC on PORT (default 6334), HTTP on PORT-1;
#                                      # prints the URL lore uses (qdrant.url / QDRANT_URL)
#   scripts/qdrant.sh cluster N [PORT] # N nodes (default 3) from PORT (default 6434), 3 ports each;
#                                      # prints each node's gRPC URL, first node first
#   scripts/qdrant.sh stop             # stops every node this script started
#   scripts/qdrant.sh status
#
# Environment: LORE_QDRANT_DIR (default ~/.cache/lore-qdrant: the unpacked binary, each node's
# storage and log), QDRANT_API_KEY (the nodes then require it), LORE_QDRANT_FRESH=1 (empty the
# storage before starting).
set -euo pipefail
cd "$(dirname "$0")/.."
W=${LORE_QDRANT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lore-qdrant}
XZ=../shared/bin/qdrant.xz
XZ_SHA256=4e88523a9f7aa823083919e28b7fa8373616c29103abe6bbf25dc5d3f3253f70
BIN="$W/qdrant"
mkdir -p "$W"

install_binary() {
  [ -x "$BIN" ] && return 0
  [ -f "$XZ" ] || { echo "no Qdrant server: $XZ is missing" >&2; exit 1; }
  echo "$XZ_SHA256  $XZ" | sha256sum -c --quiet - >&2 || { echo "$XZ: checksum mismatch" >&2; exit 1; }
  xz -dc "$XZ" >"$BIN.part" && chmod +x "$BIN.part" && mv "$BIN.part" "$BIN"
}

ready() {
  python3 - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

# start_node NAME GRPC_PORT [extra qdrant arguments...]: starts one node in the background.
start_node() {
  local name=$1 grpc=$2; shift 2
  local http=$((grpc - 1)) node="$W/$name"
  if [ "${LORE_QDRANT_FRESH:-0}" = 1 ]; then rm -rf "$node"; fi
  mkdir -p "$node/storage" "$node/snapshots"
  (
    cd "$node"
    export QDRANT__STORAGE__STORAGE_PATH="$node/storage" QDRANT__STORAGE__SNAPSHOTS_PATH="$node/snapshots"
    export QDRANT__SERVICE__HOST=127.0.0.1 QDRANT__SERVICE__HTTP_PORT=$http QDRANT__SERVICE__GRPC_PORT=$grpc
    export QDRANT__TELEMETRY_DISABLED=true
    if [ -n "${QDRANT_API_KEY:-}" ]; then export QDRANT__SERVICE__API_KEY="$QDRANT_API_KEY"; fi
    if [ $# -gt 0 ]; then
      export QDRANT__CLUSTER__ENABLED=true QDRANT__CLUSTER__P2P__PORT=$((grpc + 1))
    fi
    nohup "$BIN" "$@" >"$node/log" 2>&1 &
    echo $! >"$node/pid"
  )
  echo "$http" >"$node/http.port"
}

wait_ready() {
  local name=$1 node="$W/$1"
  for _ in $(seq 1 120); do
    if ready "$(cat "$node/http.port")"; then return 0; fi
    kill -0 "$(cat "$node/pid")" 2>/dev/null || { tail -n 20 "$node/log" >&2; exit 1; }
    sleep 0.5
  done
  echo "Qdrant node $name did not become ready in 60 s; log: $node/log" >&2
  exit 1
}

running() { [ -f "$W/$1/pid" ] && kill -0 "$(cat "$W/$1/pid")" 2>/dev/null; }

case "${1:-}" in
  start)
    GRPC=${2:-6334}
    if running single; then echo "http://127.0.0.1:$(($(cat "$W/single/http.port") + 1))"; exit 0; fi
    install_binary
    start_node single "$GRPC"
    wait_ready single
    echo "http://127.0.0.1:$GRPC"
    ;;
  cluster)
    N=${2:-3}
    BASE=${3:-6434}
    install_binary
    for i in $(seq 1 "$N"); do
      grpc=$((BASE + 3 * (i - 1)))
      if running "node$i"; then continue; fi
      if [ "$i" = 1 ]; then
        start_node node1 "$grpc" --uri "http://127.0.0.1:$((grpc + 1))"
        wait_ready node1
      else
        start_node "node$i" "$grpc" --bootstrap "http://127.0.0.1:$((BASE + 1))" --uri "http://127.0.0.1:$((grpc + 1))"
      fi
    done
    for i in $(seq 1 "$N"); do wait_ready "node$i"; echo "http://127.0.0.1:$((BASE + 3 * (i - 1)))"; done
    ;;
  stop)
    for pidfile in "$W"/*/pid; do
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile")
      if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -9 "$pid" 2>/dev/null || true
      fi
      rm -f "$pidfile"
    done
    ;;
  status)
    found=0
    for dir in "$W"/*/; do
      name=$(basename "$dir")
      if running "$name" && ready "$(cat "$W/$name/http.port")"; then
        echo "$name http://127.0.0.1:$(($(cat "$W/$name/http.port") + 1))"; found=1
      fi
    done
    [ "$found" = 1 ] || { echo "not running"; exit 1; }
    ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
