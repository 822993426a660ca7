# Shared set-up for ./scripts/run and ./scripts/test (sourced, not run). Safe to run again: every step
# checks first and does nothing when its work is already done.
#   GEMBA_SETUP_EXTRAS  pip extras to install ("" for the server, "test" for the test suite)
#   GEMBA_APT_PACKAGES  Debian packages needed beyond the base set

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

install_debian_packages() {
    local wanted=(libzbar0 libcairo2 fonts-dejavu-core chromium nodejs ${GEMBA_APT_PACKAGES:-}) missing=()
    python3 -c 'import venv, ensurepip' 2>/dev/null || wanted+=(python3-venv)
    for package in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null; then
        echo "missing system packages: ${missing[*]} (install them with your package manager)" >&2; return 1
    fi
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

create_virtualenv() {
    if [ -x .venv/bin/python ] && python_ok .venv/bin/python; then return 0; fi
    local python=""
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null && python_ok "$candidate"; then python="$candidate"; break; fi
    done
    [ -n "$python" ] || { echo "Gemba needs Python 3.11 or newer" >&2; return 1; }
    say "creating .venv with $($python --version)"
    rm -rf .venv
    "$python" -m venv .venv
}

install_python_packages() {
    local extras="${GEMBA_SETUP_EXTRAS:-}" target=".[${GEMBA_SETUP_EXTRAS:-}]"
    [ -z "$extras" ] && target="."
    # A stamp of what was installed, so a second run costs nothing unless pyproject.toml changed.
    local stamp=".venv/.gemba-installed-${extras:-server}" digest
    digest="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then return 0; fi
    say "installing Python packages ($target)"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet --editable "$target"
    echo "$digest" > "$stamp"
}

install_debian_packages
create_virtualenv
install_python_packages
