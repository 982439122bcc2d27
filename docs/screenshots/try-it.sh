#!/bin/sh
# Re-make docs/screenshots/try-it-80x40.png: the README's "try it" commands in an 80x40 tmux pane
# (a new store, run from an empty directory), the pane captured as text and drawn by headless Chromium.
# Needs tmux and Chromium (apt-get install tmux chromium) and dealgraph installed. Usage: sh try-it.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
sock="dealgraph-try-it-$$"
cmd='dealgraph query deal-comparisons && dealgraph query circular-flows --max-length 4 && dealgraph check'
tmux -L "$sock" new-session -d -x 80 -y 40 -c "$work" \
  "env DEALGRAPH_DB=$work/deals.db PS1='$ ' sh -c 'printf \"\$ %s\\n\" \"$cmd\"; $cmd; sleep 600'"
sleep 15
tmux -L "$sock" capture-pane -p > "$work/pane.txt"
tmux -L "$sock" capture-pane -p -S - -E - > "$here/try-it-80.txt"
tmux -L "$sock" kill-server
render() {  # text file, rows, PNG: a <pre> of it in DejaVu Sans Mono 14px/17px, 80 columns = 675 px
  python3 - "$1" "$2" "$work/page.html" <<'PY'
import html, sys
rows = int(sys.argv[2])
text = open(sys.argv[1], encoding="utf-8").read().rstrip("\n").split("\n")
text = (text + [""] * rows)[:rows]
page = ("<!doctype html><meta charset=utf-8><style>body{margin:0;background:#1e1e1e}"
        "pre{margin:0;padding:8px 10px;color:#e6e6e6;font:14px/17px 'DejaVu Sans Mono',monospace}</style>"
        "<pre>" + html.escape("\n".join(text)) + "</pre>")
open(sys.argv[3], "w", encoding="utf-8").write(page)
PY
  ${CHROMIUM:-/usr/bin/chromium} --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=695,$(( $2 * 17 + 16 )) --screenshot="$3" "file://$work/page.html" 2>/dev/null
}
render "$work/pane.txt" 40 "$here/try-it-80x40.png"
render "$here/try-it-80.txt" "$(wc -l < "$here/try-it-80.txt")" "$here/try-it-80-full.png"
rm -rf "$work"
echo "wrote $here/try-it-80x40.png (the pane) and $here/try-it-80-full.png (all of the output)"
