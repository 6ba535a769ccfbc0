# Where Odoo comes from, sourced by lib.sh. pico_mes runs on Odoo 18.0 and 19.0;
# ODOO_BRANCH picks the series (18.0 unless ODOO_SRC holds another). In order:
#   1. ODOO_SRC=/path/to/odoo   an existing Odoo tree, with a virtualenv made for it
#   2. python3 imports Odoo of that series
#                               used as it is; where that Python refuses pip (PEP 668,
#                               Debian's and Ubuntu's own), a virtualenv beside it that
#                               sees its packages takes ours
#   3. otherwise (or ODOO_BOOTSTRAP=always)
#                               a shallow clone of the series' branch (from ODOO_REPO, a
#                               git URL or local path; default: Odoo's official
#                               repository) and a virtualenv
# Series side by side: 18.0 under var/odoo and var/venv (the paths it always had),
# 19.0 under var/odoo-19.0 and var/venv-19.0. ODOO_VENV names another virtualenv,
# which is filled, never deleted.
# Each step writes its result under a temporary name (or marks it ready last), so an
# interrupted or failed run never leaves a clone or a virtualenv the next run trusts.
# shellcheck shell=bash

ODOO_SERIES_SUPPORTED=(18.0 19.0)
ODOO_OFFICIAL_REPO="https://github.com/odoo/odoo.git"
# Paths some Odoo repositories carry that are not Odoo Community (LGPL): never taken
# into a tree (a snapshot with Odoo Enterprise and OEEL-licensed addons beside it);
# any other addon whose manifest names the OEEL licence is left out as well.
ODOO_NOT_COMMUNITY=(odoo/enterprise custom-addons addons/certificate addons/l10n_hr_edi
    addons/project_hr_skills)
# Debian packages that Odoo's pinned requirements build against (psycopg2, python-ldap).
ODOO_BUILD_DEBS=(git libpq-dev libldap2-dev libsasl2-dev build-essential)

# odoo_tree_series TREE: "18.0", "19.0"... as TREE's odoo/release.py says, or nothing.
odoo_tree_series() {
    sed -nE 's/^version_info = \(([0-9]+), ([0-9]+),.*/\1.\2/p' "$1/odoo/release.py" 2>/dev/null
}

if [ -z "${ODOO_BRANCH:-}" ] && [ -n "${ODOO_SRC:-}" ]; then
    ODOO_BRANCH="$(odoo_tree_series "$ODOO_SRC")"
fi
ODOO_BRANCH="${ODOO_BRANCH:-18.0}"
case " ${ODOO_SERIES_SUPPORTED[*]} " in
    *" $ODOO_BRANCH "*) ;;
    *) die "pico_mes runs on Odoo ${ODOO_SERIES_SUPPORTED[*]}: ODOO_BRANCH=$ODOO_BRANCH is none of them" ;;
esac
ODOO_SERIES_SUFFIX="-$ODOO_BRANCH"
[ "$ODOO_BRANCH" = 18.0 ] && ODOO_SERIES_SUFFIX=""  # 18.0 keeps the paths it always had
ODOO_DB_SUFFIX="${ODOO_SERIES_SUFFIX//[-.]/_}"  # default database names: pico_test_19_0
ODOO_VENV_NAMED="${ODOO_VENV:+yes}"

python_has_odoo() {
    "$1" - "$ODOO_BRANCH" <<'PY' 2>/dev/null
import odoo.release, sys
sys.exit(odoo.release.series != sys.argv[1])
PY
}

# python_refuses_pip PYTHON: PYTHON is a system Python marked externally managed
# (PEP 668), where pip installs nothing (pip's own test).
python_refuses_pip() {
    "$1" - <<'PY' 2>/dev/null
import os, sys, sysconfig
marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
sys.exit(not (sys.prefix == sys.base_prefix and os.path.isfile(marker)))
PY
}

# require_odoo: set PYTHON, ODOO_ROOT, ODOO_BIN and ADDONS_PATH for the other scripts.
require_odoo() {
    if [ -z "${ODOO_SRC:-}" ] && [ "${ODOO_BOOTSTRAP:-}" != always ] && python_has_odoo python3; then
        PYTHON="$(command -v python3)"
        if python_refuses_pip "$PYTHON"; then
            [ -n "$ODOO_VENV_NAMED" ] || ODOO_VENV="$VAR/venv-system$ODOO_SERIES_SUFFIX"
            odoo_venv --beside "$PYTHON"
            PYTHON="$ODOO_VENV/bin/python"
        fi
    else
        ODOO_VENV="${ODOO_VENV:-$VAR/venv$ODOO_SERIES_SUFFIX}"
        [ -n "${ODOO_SRC:-}" ] || ODOO_SRC="$(odoo_clone)" || exit 1
        [ -f "$ODOO_SRC/odoo/release.py" ] || die "ODOO_SRC=$ODOO_SRC holds no Odoo tree (odoo/release.py)"
        local series; series="$(odoo_tree_series "$ODOO_SRC")"
        [ "$series" = "$ODOO_BRANCH" ] \
            || die "ODOO_SRC=$ODOO_SRC holds Odoo ${series:-of no known series}, not ODOO_BRANCH=$ODOO_BRANCH"
        odoo_venv "$ODOO_SRC"
        PYTHON="$ODOO_VENV/bin/python"
    fi
    python_has_odoo "$PYTHON" || die "$PYTHON cannot import Odoo $ODOO_BRANCH${ODOO_SRC:+ from $ODOO_SRC}"
    # odoo.release, not odoo: since 19.0 odoo is a namespace package (odoo.__file__ is None)
    ODOO_ROOT="$("$PYTHON" -c 'import odoo.release as r, os; print(os.path.dirname(os.path.dirname(r.__file__)))')"
    ODOO_BIN="$ODOO_ROOT/odoo-bin"
    [ -f "$ODOO_BIN" ] || ODOO_BIN="$(command -v odoo || true)"
    [ -n "$ODOO_BIN" ] || die "found the odoo package but neither odoo-bin nor the odoo command"
    ADDONS_PATH="$REPO"
    [ -d "$ODOO_ROOT/addons" ] && ADDONS_PATH="$ODOO_ROOT/addons,$ADDONS_PATH"
    export PYTHON ODOO_ROOT ODOO_BIN ADDONS_PATH ODOO_BRANCH
}

# Prints the path of the series' clone (var/odoo, var/odoo-19.0), cloning it first when
# missing: the branch, or else the repository's default branch if it holds the series.
odoo_clone() {
    local into="$VAR/odoo$ODOO_SERIES_SUFFIX" source="${ODOO_REPO:-$ODOO_OFFICIAL_REPO}" series
    if [ ! -f "$into/odoo/release.py" ]; then
        [ -d "$source" ] && source="file://$(cd "$source" && pwd)"  # --depth needs a URL
        rm -rf "$into.part"
        install_debs git >&2
        say "Cloning Odoo $ODOO_BRANCH from $source into $into (a shallow clone, about 1.5 GB)" >&2
        if ! git_clone_community "$source" "$into.part" --branch "$ODOO_BRANCH" >&2; then
            # A mirror may keep the series on its default branch: take it, then check it.
            rm -rf "$into.part"
            git_clone_community "$source" "$into.part" >&2 \
                || die "could not clone Odoo from $source. Check the address (or set ODOO_REPO to a
reachable git URL or local repository, or ODOO_SRC to an Odoo $ODOO_BRANCH tree), then run this again."
        fi
        series="$(odoo_tree_series "$into.part")"
        [ "$series" = "$ODOO_BRANCH" ] \
            || die "$source does not hold Odoo $ODOO_BRANCH (its default branch holds ${series:-no Odoo}: see $into.part/odoo/release.py)"
        odoo_check_community "$into.part"
        mv "$into.part" "$into"
    fi
    printf '%s\n' "$into"
}

# git_clone_community SOURCE DEST [git clone options]: a shallow clone without the paths
# that are not Odoo Community: blobs are fetched for the checked-out paths only
# (a partial clone), so a repository whose other blobs are missing still clones.
# The addons' manifests come first, to leave out those under Odoo's Enterprise
# licence (Odoo's own repository carries a few).
git_clone_community() {
    local source="$1" dest="$2" local_options=() excluded=("${ODOO_NOT_COMMUNITY[@]}") addon
    shift 2
    if [[ "$source" == file://* ]]; then
        # A local repository filters only when its upload-pack is told it may; the
        # setting is kept for the checkout's own fetch of the blobs.
        local upload_pack="git -c uploadpack.allowFilter=true upload-pack"
        local_options=(--upload-pack "$upload_pack" -c remote.origin.uploadpack="$upload_pack")
    fi
    git clone --depth 1 --no-checkout --filter=blob:none "$@" \
        ${local_options[@]+"${local_options[@]}"} "$source" "$dest" || return 1
    git -C "$dest" sparse-checkout set --no-cone '/addons/*/__manifest__.py' \
        '/odoo/addons/*/__manifest__.py' "${excluded[@]/#/!/}" || return 1
    git -C "$dest" checkout --quiet || return 1
    while IFS= read -r addon; do
        excluded+=("$addon")
    done < <(odoo_enterprise_addons "$dest")
    git -C "$dest" sparse-checkout set --no-cone '/*' "${excluded[@]/#/!/}"
}

# odoo_enterprise_addons TREE: the addons of TREE whose manifest names Odoo's
# Enterprise licence (OEEL), as paths relative to TREE.
odoo_enterprise_addons() {
    (cd "$1" && grep -lE "[\"']license[\"'][[:space:]]*:[[:space:]]*[\"']OEEL" \
        addons/*/__manifest__.py odoo/addons/*/__manifest__.py 2>/dev/null) \
        | sed 's|/__manifest__\.py$||' || true
}

# odoo_check_community TREE: no addon of TREE is under Odoo's Enterprise licence.
odoo_check_community() {
    local found
    found="$(odoo_enterprise_addons "$1")"
    [ -z "$found" ] || die "the Odoo tree in $1 holds addons under Odoo's Enterprise licence,
which pico_mes never loads: ${found//$'\n'/, }"
}

# odoo_venv SRC: a virtualenv (ODOO_VENV) with Odoo's requirements and ours (the tests'
# included, they are small), SRC on its path.
# odoo_venv --beside PYTHON: a virtualenv of PYTHON that sees PYTHON's packages (its
# Odoo among them), with our requirements.
odoo_venv() {
    local src="" base=python3 venv_options=() requirements=() stamp
    if [ "$1" = --beside ]; then
        base="$2"
        venv_options=(--system-site-packages)
    else
        src="$(cd "$1" && pwd)"
        requirements=("$VAR/odoo-requirements$ODOO_SERIES_SUFFIX.txt")
        sed -E 's/^cbor2==5\.4\.2/cbor2==5.6.2/' "$src/requirements.txt" > "${requirements[0]}"  # 5.4.2 no longer builds
    fi
    requirements+=("$REPO/requirements.txt" "$REPO/requirements-test.txt")
    # gevent, as Odoo pins it, imports pkg_resources, which setuptools 81 dropped:
    # without it Odoo's gevent worker (prefork) dies at start.
    local tools=(pip wheel "setuptools<81")
    stamp="$(cat "${requirements[@]}" | cksum | cut -d' ' -f1) ${src:-beside $base} ${tools[*]}"
    if [ -f "$ODOO_VENV/.pico-ready" ] && grep -qxF "$stamp" "$ODOO_VENV/.pico-ready"; then
        return 0
    fi
    if [ -z "$ODOO_VENV_NAMED" ] && [ ! -f "$ODOO_VENV/.pico-ready" ]; then
        rm -rf "$ODOO_VENV"  # ours, and half made: start again
    fi
    rm -f "$ODOO_VENV/.pico-ready"
    [ -n "$src" ] && install_debs "${ODOO_BUILD_DEBS[@]}"
    # Debian's own python3 needs its headers and venv module as packages.
    [ "$(command -v "$base")" = /usr/bin/python3 ] && install_debs python3-dev python3-venv
    if [ ! -x "$ODOO_VENV/bin/python" ]; then
        say "Creating the virtualenv $ODOO_VENV${venv_options[*]:+ (beside $base, seeing its packages)}"
        "$base" -m venv ${venv_options[@]+"${venv_options[@]}"} "$ODOO_VENV" \
            || die "could not create $ODOO_VENV ($base -m venv)"
    fi
    local pip=("$ODOO_VENV/bin/python" -m pip install --disable-pip-version-check)
    local log="$VAR/bootstrap-pip$ODOO_SERIES_SUFFIX.log" requirement_files=()
    for requirement in "${requirements[@]}"; do requirement_files+=(-r "$requirement"); done
    say "Installing the Python requirements into $ODOO_VENV (a few minutes the first time; log: $log)"
    "${pip[@]}" -q --upgrade "${tools[@]}" > "$log" 2>&1 || venv_failed "$log"
    run_logged "$log" "^(Collecting|Building wheel for|Successfully installed)" \
        "${pip[@]}" "${requirement_files[@]}" || venv_failed "$log"
    if [ -n "$src" ]; then
        local site
        site="$("$ODOO_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
        printf '%s\n' "$src" > "$site/odoo-src.pth"
    fi
    printf '%s\n' "$stamp" > "$ODOO_VENV/.pico-ready"
}

# run_logged LOG PATTERN COMMAND...: COMMAND's output appended to LOG, its lines that
# match PATTERN shown; COMMAND's exit status. Call it in a condition (|| ...).
run_logged() {
    local log="$1" pattern="$2" statuses
    shift 2
    "$@" 2>&1 | tee -a "$log" | { grep --line-buffered -E "$pattern" || true; } | sed -u 's/^/   /'
    statuses=("${PIPESTATUS[@]}")
    return "${statuses[0]}"
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
