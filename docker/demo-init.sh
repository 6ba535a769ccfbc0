#!/usr/bin/env bash
# One-shot set-up of the PICO demo in Docker: pico_mes installed (or updated) in the
# database pico_demo, then the demo data, connected to the pico-sim service.
set -euo pipefail
CONF=/etc/odoo/pico_mes.conf

odoo -c "$CONF" -i pico_mes -u pico_mes --stop-after-init --log-level=warn
cd /opt/pico
python3 -m demo load --odoo-bin "$(command -v odoo)" --conf "$CONF" --db pico_demo \
    --api-url http://pico-sim:8070/graph/v2 \
    --base-url http://localhost:8069 --public-url http://odoo:8069
echo "PICO demo ready: http://localhost:8069 (admin/admin), PICO http://localhost:8070/"
