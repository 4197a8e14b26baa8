# Sourced by the set-up scripts: lore_runtime_dir [DIR] prints lore's runtime directory (DIR, else
# $LORE_RUNTIME, else ~/.local/share/lore/runtime), created, as an absolute path.
lore_runtime_dir() {
    if [ $# -ge 1 ]; then
        dir=$1
    elif [ -n "${LORE_RUNTIME:-}" ]; then
        dir=$LORE_RUNTIME
    else
        dir=${XDG_DATA_HOME:-$HOME/.local/share}/lore/runtime
    fi
    mkdir -p "$dir"
    (cd "$dir" && pwd)
}
