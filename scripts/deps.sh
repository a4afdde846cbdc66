# Sourced by the other scripts: installs the Debian packages they need when missing.
# Usage: tf_need_packages pkg...
tf_need_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "== installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The newest CPython >= 3.12 that pyenv installed (for ctempfile's conformance
# run against CPython's own test suite); else whatever python3 is on PATH.
tf_python() {
    local root=${PYENV_ROOT:-$HOME/.pyenv} py v
    for v in 3.13 3.12; do
        for py in "$root"/versions/"$v".*/bin/python3; do
            [ -x "$py" ] && { echo "$py"; return; }
        done
    done
    command -v python3
}
