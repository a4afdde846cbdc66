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

# The newest pyenv CPython that has its test package (for ctempfile), if any.
tf_python() {
    local v prefix
    command -v pyenv >/dev/null 2>&1 || { command -v python3; return; }
    for v in 3.13.0 3.12.1; do
        prefix=$(pyenv prefix "$v" 2>/dev/null) || continue
        [ -x "$prefix/bin/python3" ] && { echo "$prefix/bin/python3"; return; }
    done
    command -v python3
}
