# Where Odoo 18 comes from, sourced by lib.sh.  In order:
#   1. ODOO_SRC=/path/to/odoo   an existing Odoo 18 tree, with a virtualenv made for it
#   2. python3 imports Odoo 18  used as it is, nothing installed
#   3. otherwise (or ODOO_BOOTSTRAP=always)
#                               a shallow clone of Odoo 18.0 under var/odoo (from
#                               ODOO_REPO, a git URL or local path; default: Odoo's
#                               official repository) and a virtualenv var/venv
# Each step writes its result under a temporary name and renames it when complete,
# so an interrupted run never leaves a clone or a virtualenv that the next run trusts.
# shellcheck shell=bash

ODOO_BRANCH="${ODOO_BRANCH:-18.0}"
ODOO_OFFICIAL_REPO="https://github.com/odoo/odoo.git"
ODOO_VENV="${ODOO_VENV:-$VAR/venv}"
# Debian packages that Odoo's pinned requirements build against (psycopg2, python-ldap).
ODOO_BUILD_DEBS=(git libpq-dev libldap2-dev libsasl2-dev build-essential)

python_has_odoo18() {
    "$1" - <<'PY' 2>/dev/null
import odoo.release, sys
sys.exit(odoo.release.version_info[:2] != (18, 0))
PY
}

# require_odoo: set PYTHON, ODOO_ROOT, ODOO_BIN and ADDONS_PATH for the other scripts.
require_odoo() {
    if [ -z "${ODOO_SRC:-}" ] && [ "${ODOO_BOOTSTRAP:-}" != always ] && python_has_odoo18 python3; then
        PYTHON="$(command -v python3)"
    else
        [ -n "${ODOO_SRC:-}" ] || ODOO_SRC="$(odoo_clone)"
        [ -f "$ODOO_SRC/odoo/release.py" ] || die "ODOO_SRC=$ODOO_SRC holds no Odoo tree (odoo/release.py)"
        odoo_venv "$ODOO_SRC"
        PYTHON="$ODOO_VENV/bin/python"
        python_has_odoo18 "$PYTHON" || die "the virtualenv $ODOO_VENV cannot import Odoo 18.0 from $ODOO_SRC"
    fi
    ODOO_ROOT="$("$PYTHON" -c 'import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))')"
    ODOO_BIN="$ODOO_ROOT/odoo-bin"
    [ -f "$ODOO_BIN" ] || ODOO_BIN="$(command -v odoo || true)"
    [ -n "$ODOO_BIN" ] || die "found the odoo package but neither odoo-bin nor the odoo command"
    ADDONS_PATH="$REPO"
    [ -d "$ODOO_ROOT/addons" ] && ADDONS_PATH="$ODOO_ROOT/addons,$ADDONS_PATH"
    export PYTHON ODOO_ROOT ODOO_BIN ADDONS_PATH
}

# Prints the path of var/odoo, cloning it first when missing.
odoo_clone() {
    local into="$VAR/odoo" source="${ODOO_REPO:-$ODOO_OFFICIAL_REPO}"
    if [ ! -f "$into/odoo/release.py" ]; then
        [ -d "$source" ] && source="file://$(cd "$source" && pwd)"  # --depth needs a URL
        rm -rf "$into.part"
        install_debs git >&2
        say "Cloning Odoo $ODOO_BRANCH from $source into $into (a shallow clone, about 400 MB)" >&2
        if ! git clone --depth 1 --branch "$ODOO_BRANCH" --progress "$source" "$into.part" >&2; then
            # A mirror may keep 18.0 on its default branch: take it, then check the version.
            rm -rf "$into.part"
            git clone --depth 1 --progress "$source" "$into.part" >&2 \
                || die "could not clone Odoo from $source. Check the address (or set ODOO_REPO to a
reachable git URL or local repository, or ODOO_SRC to an Odoo 18 tree), then run this again."
        fi
        grep -qE "^version_info = \(18, 0," "$into.part/odoo/release.py" \
            || die "$source does not hold Odoo 18.0 (see $into.part/odoo/release.py)"
        mv "$into.part" "$into"
    fi
    printf '%s\n' "$into"
}

# odoo_venv SRC: a virtualenv with Odoo's requirements and ours (the tests' included,
# they are small), SRC on its path.
odoo_venv() {
    local src="$1" requirements="$VAR/odoo-requirements.txt" stamp
    sed -E 's/^cbor2==5\.4\.2/cbor2==5.6.2/' "$src/requirements.txt" > "$requirements"  # 5.4.2 no longer builds
    stamp="$(cat "$requirements" "$REPO/requirements.txt" "$REPO/requirements-test.txt" \
        | cksum | cut -d' ' -f1) $src"
    if [ -f "$ODOO_VENV/.pico-ready" ] && grep -qxF "$stamp" "$ODOO_VENV/.pico-ready"; then
        return 0
    fi
    [ -f "$ODOO_VENV/.pico-ready" ] || rm -rf "$ODOO_VENV"  # half made: start again
    rm -f "$ODOO_VENV/.pico-ready"
    install_debs "${ODOO_BUILD_DEBS[@]}"
    # Debian's own python3 needs its headers and venv module as packages.
    [ "$(command -v python3)" = /usr/bin/python3 ] && install_debs python3-dev python3-venv
    if [ ! -x "$ODOO_VENV/bin/python" ]; then
        say "Creating the virtualenv $ODOO_VENV"
        python3 -m venv "$ODOO_VENV" || die "could not create $ODOO_VENV (python3 -m venv)"
    fi
    local pip=("$ODOO_VENV/bin/python" -m pip install --disable-pip-version-check)
    local log="$VAR/bootstrap-pip.log"
    say "Installing Odoo's Python requirements (a few minutes the first time; log: $log)"
    "${pip[@]}" -q --upgrade pip wheel setuptools > "$log" 2>&1 || venv_failed "$log"
    "${pip[@]}" -r "$requirements" -r "$REPO/requirements-test.txt" 2>&1 | tee -a "$log" \
        | grep --line-buffered -E "^(Collecting|Building wheel for|Successfully installed)" \
        | sed -u 's/^/   /' || true
    [ "${PIPESTATUS[0]}" -eq 0 ] || venv_failed "$log"
    local site
    site="$("$ODOO_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    printf '%s\n' "$(cd "$src" && pwd)" > "$site/odoo-src.pth"
    printf '%s\n' "$stamp" > "$ODOO_VENV/.pico-ready"
}

venv_failed() {
    tail -n 20 "$1" >&2
    die "installing into $ODOO_VENV failed (full log: $1). Fix the cause above and run
this again; the unfinished virtualenv is not trusted and will be completed or rebuilt."
}

# install_debs PKG...: apt-get the Debian packages that are not installed yet.
install_debs() {
    command -v dpkg-query >/dev/null || return 0
    local missing=() deb
    for deb in "$@"; do
        dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "ok installed" || missing+=("$deb")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "Installing Debian packages: ${missing[*]}"
    apt_install "${missing[@]}"
}
