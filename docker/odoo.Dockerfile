# Odoo with the Python requirements of pico_mes (the official image lacks
# graphql-core); the "test" stage adds the test runner. ODOO_SERIES (18.0 or
# 19.0, docker-compose.yml passes it) picks the pinned official image.
ARG ODOO_SERIES=18.0
FROM odoo:18.0-20250930 AS odoo-18.0
FROM odoo:19.0-20250930 AS odoo-19.0

FROM odoo-${ODOO_SERIES} AS odoo
USER root
COPY requirements.txt /tmp/pico_mes/
RUN pip3 install --no-cache-dir --break-system-packages -r /tmp/pico_mes/requirements.txt
USER odoo

FROM odoo AS test
USER root
COPY requirements-test.txt /tmp/pico_mes/
RUN pip3 install --no-cache-dir --break-system-packages -r /tmp/pico_mes/requirements-test.txt
USER odoo
