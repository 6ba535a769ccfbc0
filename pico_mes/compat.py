"""Every difference between Odoo 18.0 and 19.0 that pico_mes meets, in one place.

Models, wizards and tests call these helpers; none of them asks which series it
runs on. Each helper names what changed between the series.
"""

import threading

import odoo.modules.module
from odoo import release

SERIES = release.version_info[0]  # 18 or 19

# res.users: groups_id (18.0) became group_ids (19.0)
USER_GROUPS_FIELD = "group_ids" if SERIES >= 19 else "groups_id"

# decimal.precision "Product Unit of Measure" (18.0) became "Product Unit" (19.0)
PRODUCT_UOM_PRECISION = "Product Unit" if SERIES >= 19 else "Product Unit of Measure"


def testing():
    """Inside a test, which keeps its one transaction: Odoo's test runner and
    pytest-odoo set ``current_test`` on both series; Odoo 19.0 no longer sets
    the thread's ``testing`` flag, which only the benchmarks still set."""
    return bool(odoo.modules.module.current_test) or getattr(
        threading.current_thread(), "testing", False
    )


def set_producing_lot(production, lot):
    """The finished lot or serial of the unit being produced: ``lot_producing_id``
    (18.0) became the many2many ``lot_producing_ids`` (19.0)."""
    if SERIES >= 19:
        production.lot_producing_ids = lot
    else:
        production.lot_producing_id = lot


def producing_lots(production):
    """The finished lots or serials an MO is producing (a recordset)."""
    if SERIES >= 19:
        return production.lot_producing_ids
    return production.lot_producing_id


def production_family(production):
    """The MOs split or backordered from the same order, ``production`` included:
    ``procurement_group_id.mrp_production_ids`` (18.0) became
    ``production_group_id.production_ids`` (19.0)."""
    if SERIES >= 19:
        return production.production_group_id.production_ids or production
    return production.procurement_group_id.mrp_production_ids or production


def cron_progress(env, done, remaining):
    """Report a cron batch's progress (Odoo runs it again at once while work is
    left): ``_notify_progress`` (18.0) gave way to ``_commit_progress`` (19.0),
    which also commits."""
    if SERIES >= 19:
        env["ir.cron"]._commit_progress(done, remaining=remaining)
    else:
        env["ir.cron"]._notify_progress(done=done, remaining=remaining)


def read_group_groupby_args(model, args):
    """``(alias, groupby spec, query)`` from the arguments of an override of
    ``_read_group_groupby``: ``(spec, query)`` on the model's table (18.0) became
    ``(alias, spec, query)`` (19.0)."""
    if SERIES >= 19:
        alias, spec, query = args
        return alias, spec, query
    spec, query = args
    return model._table, spec, query
