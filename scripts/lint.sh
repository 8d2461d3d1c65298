#!/usr/bin/env bash
# `make lint`: ruff (lint rules, then formatting) on the Python sources and shellcheck on every shell
# script; exits 1 on any finding (all checks run, so one run shows every finding).
#   scripts/lint.sh          run the checks (VENV: the virtualenv holding ruff and jinja2, default .venv)
#   scripts/lint.sh --list   print the shell scripts it checks, one per line
# A shell script is a file of the repository (ignored ones aside) whose first line is a sh/bash shebang,
# or a sourced *.sh library. The server scripts have no suffix, so only the shebang finds them. Shell
# templates (*.j2 with such a shebang) are rendered first, with the header the deploy puts in.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}

shell_scripts() {
    local files f first
    files=$(git ls-files --cached --others --exclude-standard)
    while IFS= read -r f; do
        [ -f "$f" ] || continue  # deleted, not yet committed
        first=""
        IFS= read -r first <"$f" || true
        if [[ $f == *.sh || $first =~ ^'#!'[[:space:]]*(/usr)?/bin/(env[[:space:]]+)?(ba|da)?sh([[:space:]]|$) ]]; then
            printf '%s\n' "$f"
        fi
    done <<<"$files"
}

# render TEMPLATE OUT: the template with the managed header filled in. Undefined variables are errors:
# a shell template that needs more than the header fails here, until this gives it sample values.
render() {
    "$venv/bin/python" - "$1" "$2" <<'PY'
import sys
from pathlib import Path

import jinja2

from louieops.resources import MANAGED_HEADER

src, out = sys.argv[1:]
template = jinja2.Template(Path(src).read_text(), undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
try:
    Path(out).write_text(template.render(managed=MANAGED_HEADER.format(source=src)))
except jinja2.UndefinedError as error:
    sys.exit(f"lint: cannot render {src}: {error}")
PY
}

mapfile -t scripts < <(shell_scripts)
[ "${#scripts[@]}" -gt 0 ] || { echo "lint: found no shell scripts (not a git checkout?)" >&2; exit 1; }
if [ "${1:-}" = --list ]; then
    printf '%s\n' "${scripts[@]}"
    exit 0
fi
[ -x "$venv/bin/ruff" ] || { echo "lint: $venv/bin/ruff is missing: run scripts/bootstrap.sh (or set VENV)" >&2; exit 1; }
command -v shellcheck >/dev/null ||
    { echo "lint: shellcheck is not installed: run scripts/bootstrap.sh (Debian package shellcheck)" >&2; exit 1; }

failed=()
"$venv/bin/ruff" check --quiet . || failed+=("ruff check")
"$venv/bin/ruff" format --check --quiet . || failed+=("ruff format --check (make fmt fixes it)")

rendered=$(mktemp -d)
trap 'rm -rf -- "$rendered"' EXIT
checked=()
for f in "${scripts[@]}"; do
    if [[ $f == *.j2 ]]; then
        mkdir -p "$rendered/$(dirname "$f")"
        render "$f" "$rendered/${f%.j2}" || { failed+=("rendering $f"); continue; }
        checked+=("$rendered/${f%.j2}")
    else
        checked+=("$f")
    fi
done
shellcheck "${checked[@]}" || failed+=("shellcheck")

if [ "${#failed[@]}" -gt 0 ]; then
    printf 'lint: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "lint: ruff and shellcheck (${#scripts[@]} shell scripts) found nothing"
