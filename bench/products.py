"""Products and BoMs the benchmarks build, mapped to the simulator's seed operations."""

from odoo.fields import Command  # importable before Odoo starts, on 18.0 and 19.0


def make_product(env, code, name, tracking="none"):
    return env["product.product"].create(
        {"name": name, "default_code": code, "is_storable": True, "tracking": tracking}
    )


def make_bom(env, product, lines):
    """A strict BoM for one ``product`` from (component, quantity) pairs."""
    return env["mrp.bom"].create(
        {
            "product_tmpl_id": product.product_tmpl_id.id,
            "consumption": "strict",
            "bom_line_ids": [
                Command.create({"product_id": p.id, "product_qty": q}) for p, q in lines
            ],
        }
    )


def sensor_kit(env, stock=100000):
    """An untracked product (PICO-SENSOR) with two untracked components in stock."""
    screw = make_product(env, "BENCH-SCREW", "Screw")
    board = make_product(env, "BENCH-BOARD", "Board")
    sensor = make_product(env, "PICO-SENSOR", "Sensor Kit")
    make_bom(env, sensor, [(screw, 4), (board, 1)])
    location = env.ref("stock.stock_location_stock")
    for component in (screw, board):
        env["stock.quant"]._update_available_quantity(component, location, stock)
    return sensor


def make_mo(env, product, quantity):
    return env["mrp.production"].create(
        {"product_id": product.id, "product_qty": quantity}
    )


def desk_lamp(env, serials=200):
    """A serial-tracked product (PICO-LAMP) with a serial-tracked component."""
    driver = make_product(env, "PICO-LED-DRIVER", "LED Driver", tracking="serial")
    screw = make_product(env, "BENCH-LAMP-SCREW", "Lamp Screw")
    lamp = make_product(env, "PICO-LAMP", "Desk Lamp", tracking="serial")
    make_bom(env, lamp, [(driver, 1), (screw, 2)])
    location = env.ref("stock.stock_location_stock")
    env["stock.quant"]._update_available_quantity(screw, location, 100000)
    lots = env["stock.lot"].create(
        [{"name": f"DRV-{i:05d}", "product_id": driver.id} for i in range(serials)]
    )
    for lot in lots:
        env["stock.quant"]._update_available_quantity(driver, location, 1, lot_id=lot)
    return lamp, driver, lots


def control_box(env, stock=100000):
    """A lot-tracked product (PICO-CTRL) with a lot-tracked component (its PCB,
    one lot in stock) and an untracked one."""
    pcb = make_product(env, "PICO-PCB", "PCB", tracking="lot")
    housing = make_product(env, "BENCH-HOUSING", "Housing")
    box = make_product(env, "PICO-CTRL", "Control Box", tracking="lot")
    make_bom(env, box, [(pcb, 1), (housing, 1)])
    location = env.ref("stock.stock_location_stock")
    env["stock.quant"]._update_available_quantity(housing, location, stock)
    lot = env["stock.lot"].create({"name": "BENCH-PCB-LOT", "product_id": pcb.id})
    env["stock.quant"]._update_available_quantity(pcb, location, stock, lot_id=lot)
    return box, pcb, lot
