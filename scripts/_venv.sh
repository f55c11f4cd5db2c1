# Sourced by scripts/run and scripts/test: create a virtual environment and install
# the project into it (editable) when it is missing or its requirements changed.
# Usage: ensure_venv "" | ensure_venv "[dev]" | ensure_venv "" DIR EXTRA_REQUIREMENT...
ensure_venv() {
    local extras="$1"
    local venv="${2:-.venv}"
    local python="${PYTHON:-python3}"
    local stamp="$venv/.typedsvc-installed${extras}"
    local want
    want="$(cat pyproject.toml | cksum) ${*:3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "typedsvc needs Python 3.11 or newer; set PYTHON=/path/to/python3.11 or newer." >&2
        exit 1
    fi
    if [ ! -x "$venv/bin/python" ]; then
        echo "Creating $venv with $("$python" --version)" >&2
        "$python" -m venv "$venv"
    fi
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "Installing typedsvc${extras} ${*:3} into $venv" >&2
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".${extras}" "${@:3}"
        echo "$want" > "$stamp"
    fi
}
