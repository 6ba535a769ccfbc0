"""Every difference between Odoo 18.0 and 19.0 that pico_mes meets, in one place.

Models, wizards and tests call these helpers; none of them asks which series it
runs on. Each helper names what changed between the series.
"""

import contextlib
import math
import threading
from unittest import mock

import odoo.modules.module
from odoo import Command, models, release
from odoo.tools import html2plaintext

SERIES = release.version_info[0]  # 18 or 19

# res.users: groups_id (18.0) became group_ids (19.0)
USER_GROUPS_FIELD = "group_ids" if SERIES >= 19 else "groups_id"

# res.groups: users (18.0) became user_ids (19.0)
GROUP_USERS_FIELD = "user_ids" if SERIES >= 19 else "users"

# mrp.workorder states before it starts: pending/waiting/ready (18.0) became
# blocked/ready (19.0)
WORKORDER_NOT_STARTED = (
    ("blocked", "ready") if SERIES >= 19 else ("pending", "waiting", "ready")
)

# decimal.precision "Product Unit of Measure" (18.0) became "Product Unit" (19.0)
PRODUCT_UOM_PRECISION = "Product Unit" if SERIES >= 19 else "Product Unit of Measure"


class _SqlConstraint18:
    """Stands for ``models.Constraint`` on 18.0: naming it in a model's class
    body appends it to the class's ``_sql_constraints``, under the same name."""

    def __init__(self, definition, message=""):
        self.definition = definition
        self.message = message

    def __set_name__(self, owner, name):
        inherited = owner.__dict__.get("_sql_constraints", [])
        owner._sql_constraints = [*inherited, (name[1:], self.definition, self.message)]


def Constraint(definition, message=""):  # noqa: N802 (stands for a class)
    """A database constraint, declared in the model's class body under a name
    starting with ``_``: ``_key_uniq = compat.Constraint("unique(a, b)", "...")``.
    ``_sql_constraints`` (18.0) is ignored since 19.0, which reads
    ``models.Constraint`` class attributes; both name it ``<table>_key_uniq``."""
    if SERIES >= 19:
        return models.Constraint(definition, message)
    return _SqlConstraint18(definition, message)


def declared_constraints(model, module):
    """{name in the database: definition} of the constraints ``module`` declares
    on ``model``."""
    if SERIES >= 19:
        return {
            name: constraint.get_definition(model.pool)
            for name, constraint in model._table_objects.items()
            if isinstance(constraint, models.Constraint)
            and constraint._module == module
        }
    return {
        f"{model._table}_{name}": definition
        for cls in type(model).__mro__
        if vars(cls).get("_module") == module
        for name, definition, _message in vars(cls).get("_sql_constraints", ())
    }


def set_role_category(env, groups, category, privilege_xmlid):
    """Show ``groups`` (each implying the one before) as one choice under
    ``category`` in Settings > Users: ``res.groups.category_id`` (18.0) became
    ``privilege_id``, a ``res.groups.privilege`` of the category (19.0), created
    here under ``privilege_xmlid`` (the module's, kept on updates)."""
    if SERIES < 19:
        groups.category_id = category
        return
    privilege = env.ref(privilege_xmlid, raise_if_not_found=False)
    if not privilege:
        privilege = env["res.groups.privilege"]._load_records(
            [
                {
                    "xml_id": privilege_xmlid,
                    "noupdate": True,
                    "values": {
                        "name": category.name,
                        "sequence": category.sequence,
                        "category_id": category.id,
                    },
                }
            ]
        )
    groups.privilege_id = privilege


def role_category(group):
    """The category a group is shown under in Settings > Users."""
    if SERIES >= 19:
        return group.privilege_id.category_id
    return group.category_id


def add_group_users(group, users):
    """Make ``users`` members of ``group``."""
    group.write({GROUP_USERS_FIELD: [Command.link(user.id) for user in users]})


def operation_worksheet(operation):
    """The text of Odoo's own worksheet of a BoM operation: its note and its
    Google Slide link (18.0). Community 19.0 has no worksheet on operations
    (``note``, ``worksheet_type`` and ``worksheet_google_slide`` are gone)."""
    if SERIES >= 19:
        return ""
    text = html2plaintext(operation.note or "").strip()
    if operation.worksheet_type == "google_slide" and operation.worksheet_google_slide:
        text = "\n".join(filter(None, [text, operation.worksheet_google_slide]))
    return text


def worksheet_values(html):
    """Values that give a BoM operation Odoo's own text worksheet ``html``
    (18.0); none where the series has no worksheet (19.0)."""
    if SERIES >= 19:
        return {}
    return {"worksheet_type": "text", "note": html}


def stock_move_description(product):
    """What a new stock move needs to describe it: its required ``name``
    (18.0); moves have no name since 19.0."""
    if SERIES >= 19:
        return {}
    return {"name": product.display_name}


def split_wizard_count(wizard, count):
    """Ask Odoo's split wizard (a ``Form``) for ``count`` orders: ``counter``
    (18.0) gave way to ``max_batch_size`` (19.0), which the count derives from."""
    if SERIES >= 19:
        wizard.max_batch_size = math.ceil(wizard.product_qty / count)
    else:
        wizard.counter = count


def run_scheduler(env):
    """Odoo's replenishment scheduler: on ``procurement.group`` (18.0), on
    ``stock.rule`` since procurement groups are gone (19.0)."""
    model = "stock.rule" if SERIES >= 19 else "procurement.group"
    env[model].run_scheduler()


def requests_from_outside(test):
    """Let an ``HttpCase``'s server answer requests that do not come through the
    test's own opener (PICO's webhook deliveries): 19.0 refuses those unless
    told, 18.0 answers them."""
    if SERIES >= 19:
        return test.allow_requests(all_requests=True)
    return contextlib.nullcontext()


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
    which also commits; inside a test, which keeps its one transaction (as the
    engine's own commits do), it runs without that commit."""
    if SERIES < 19:
        env["ir.cron"]._notify_progress(done=done, remaining=remaining)
    elif testing():
        with mock.patch.object(env.cr, "commit", lambda: None):
            env["ir.cron"]._commit_progress(done, remaining=remaining)
    else:
        env["ir.cron"]._commit_progress(done, remaining=remaining)


def read_group_groupby_args(model, args):
    """``(alias, groupby spec, query)`` from the arguments of an override of
    ``_read_group_groupby``: ``(spec, query)`` on the model's table (18.0) became
    ``(alias, spec, query)`` (19.0)."""
    if SERIES >= 19:
        alias, spec, query = args
        return alias, spec, query
    spec, query = args
    return model._table, spec, query


def list_static_folders():
    """Have Odoo read every module's manifest for its static folder now, as the
    first static request would: ``http.root.statics`` (18.0) became a
    per-module ``Manifest.for_addon(...).static_path`` (19.0)."""
    from odoo import http

    if SERIES >= 19:
        manifests = odoo.modules.module.Manifest.all_addon_manifests()
        return [http.root.static_path(manifest.name) for manifest in manifests]
    return http.root.statics  # a cached property, computed here
