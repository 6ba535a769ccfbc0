#!/usr/bin/env bash
# The test suite inside the Odoo image, as bin/test runs it, on a fresh database of
# the db service. Left out: tests/e2e, which start their own PostgreSQL, Odoo and
# simulator processes, and the tours, for want of Chromium in the image.
set -euo pipefail
DB=pico_test
CONF=/tmp/pico_test.conf
export PGHOST=db PGUSER=odoo PGPASSWORD=odoo

cat > "$CONF" <<CONF
[options]
addons_path = /opt/pico
data_dir = /tmp/odoo-data
db_host = $PGHOST
db_user = $PGUSER
db_password = $PGPASSWORD
db_name = $DB
dbfilter = ^$DB\$
list_db = False
without_demo = True
CONF

dropdb --if-exists "$DB"
odoo -c "$CONF" -d "$DB" -i pico_mes --stop-after-init --log-level=warn
cd /opt/pico  # the repository: pico_sim is imported from here (PYTHONPATH)
PYTHONPATH=/opt/pico python3 -m pytest -c setup.cfg --rootdir /opt/pico \
    --odoo-config="$CONF" --odoo-database="$DB" --odoo-http --odoo-log-level=warn \
    --ignore=tests/e2e tests pico_mes/tests "$@"
