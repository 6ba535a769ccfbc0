"""The reliability suite's data, loaded inside Odoo by ``odoo-bin shell``.

A serial-tracked product (PICO-LAMP) with a serial-tracked component
(PICO-LED-DRIVER, serials ``RELY-DRV-00000``...) and an untracked one, an
untracked product (PICO-SENSOR); components in stock; the company connected to
the simulator, its operations synced and its webhooks registered.
"""

from odoo import Command

from odoo.addons.pico_mes import compat

SCREW_STOCK = 1_000_000
BOARD_STOCK = 1_000_000


def driver_serial(number):
    return f"RELY-DRV-{number:05d}"


def load(env, api_url, token, base_url, driver_serials):
    location = env.ref("stock.stock_location_stock")
    screw = _product(env, "RELY-SCREW", "Screw")
    board = _product(env, "RELY-BOARD", "Sensor Board")
    driver = _product(env, "PICO-LED-DRIVER", "LED Driver", "serial")
    lamp = _product(env, "PICO-LAMP", "Desk Lamp", "serial")
    sensor = _product(env, "PICO-SENSOR", "Sensor Kit")
    _bom(env, lamp, [(driver, 1), (screw, 2)])
    _bom(env, sensor, [(board, 1), (screw, 4)])
    Quant = env["stock.quant"]
    Quant._update_available_quantity(screw, location, SCREW_STOCK)
    Quant._update_available_quantity(board, location, BOARD_STOCK)
    lots = env["stock.lot"].create(
        [
            {"name": driver_serial(n), "product_id": driver.id}
            for n in range(driver_serials)
        ]
    )
    for lot in lots:
        Quant._update_available_quantity(driver, location, 1, lot_id=lot)
    settings = env["res.config.settings"].create({"group_stock_production_lot": True})
    settings.execute()
    for xmlid in ("mrp.group_mrp_manager", "pico_mes.group_pico_manager"):
        compat.add_group_users(env.ref(xmlid), env.ref("base.user_admin"))
    env["ir.config_parameter"].set_param("web.base.url", base_url)
    company = env.company
    company.write(
        {"pico_enabled": True, "pico_api_url": api_url, "pico_api_token": token}
    )
    env["pico.operation"]._pico_sync_company(company, full=True)
    company._pico_register_webhooks()
    env.cr.commit()  # pylint: disable=invalid-commit


def _product(env, code, name, tracking="none"):
    return env["product.product"].create(
        {"name": name, "default_code": code, "is_storable": True, "tracking": tracking}
    )


def _bom(env, product, lines):
    env["mrp.bom"].create(
        {
            "product_tmpl_id": product.product_tmpl_id.id,
            "product_qty": 1,
            "consumption": "strict",
            "bom_line_ids": [
                Command.create({"product_id": p.id, "product_qty": q}) for p, q in lines
            ],
        }
    )
