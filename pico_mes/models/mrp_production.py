import re
from collections import Counter, defaultdict

from markupsafe import escape

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_is_zero, float_round, groupby

from .. import compat
from ..access import check_engine_fields, check_pico_manager, without_engine_defaults
from .pico_message import ALIASES_PER_REQUEST
from .pico_unit import OPEN_PRODUCTION_STATES, OPEN_STATES, UNSTARTED_STATES

UNIT_STATES = (
    "queued",
    "sent",
    "in_progress",
    "done",
    "failed",
    "cancelled",
    "scrapped",
)
CLOSED_UNIT_STATES = {"cancelled", "scrapped"}
ATTENTION_ACTIVITY = "pico_mes.mail_activity_pico_attention"
BACKORDER_SUFFIX = re.compile(r"-\d+$")
# Set by the connector only (as superuser): no user chooses or changes the
# reference an order is ordered or cancelled under, nor clears its error.
ENGINE_FIELDS = frozenset(
    {
        "pico_order_ref",
        "pico_operation_id",
        "pico_error",
        "pico_note",
        "pico_state",
        "pico_unit_ids",
        "pico_message_ids",
        "pico_process_ids",
    }
)


def order_status(states, has_error=False):
    """PICO's status of one order from its unit states (a Counter or a set).

    Scrapped units count as closed: their replacement is a unit of its own.
    """
    states = {state for state in states if state}
    if has_error or "failed" in states:
        return "error"
    if not states:
        return "none"
    active = states - CLOSED_UNIT_STATES
    if not active:
        return "cancelled"
    if "in_progress" in active:
        return "in_progress"
    if "done" in active:
        return (
            "done"
            if active == {"done"} and "cancelled" not in states
            else "partly_done"
        )
    return "sent" if active == {"sent"} else "queued"


class MrpProduction(models.Model):
    _inherit = "mrp.production"

    pico_order_ref = fields.Char(
        string="PICO Order Reference",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="Sent to PICO as externalOrderId. Set at confirmation and never "
        "changed, though Odoo renames orders when it creates backorders.",
    )
    pico_operation_id = fields.Many2one(
        "pico.operation", string="PICO Operation", copy=False, readonly=True
    )
    pico_unit_ids = fields.One2many(
        "pico.unit", "production_id", string="PICO Units", readonly=True
    )
    pico_message_ids = fields.One2many(
        "pico.message", "production_id", string="PICO Messages", readonly=True
    )
    pico_message_count = fields.Integer(compute="_compute_pico_message_count")
    pico_error = fields.Text(string="PICO Error", copy=False, readonly=True)
    pico_note = fields.Char(string="PICO Note", copy=False, readonly=True)
    pico_state = fields.Selection(
        [
            ("none", "Not applicable"),
            ("queued", "Queued"),
            ("sent", "Sent"),
            ("in_progress", "In progress"),
            ("done", "Done"),
            ("cancelled", "Cancelled"),
            ("error", "Error"),
        ],
        string="PICO Status",
        compute="_compute_pico_state",
        store=True,
        copy=False,
        index=True,
    )
    pico_process_ids = fields.One2many(
        "pico.unit.process",
        "production_id",
        string="PICO Process Times",
        readonly=True,
    )
    pico_revision_warning = fields.Char(
        string="PICO Revision Warning",
        compute="_compute_pico_revision_warning",
    )

    # PICO's status of the whole order at a glance: the order is PICO's
    # (pico_order_ref), so an MO and its backorders show the same figures.
    pico_order_status = fields.Selection(
        [
            ("none", "Not in PICO"),
            ("queued", "Queued"),
            ("sent", "Sent"),
            ("in_progress", "In progress"),
            ("partly_done", "Partly done"),
            ("done", "Done"),
            ("error", "Error"),
            ("cancelled", "Cancelled"),
        ],
        string="PICO Order Status",
        compute="_compute_pico_order_status",
        help="PICO's status of the whole order (this MO and its backorders).",
    )
    pico_units_queued = fields.Integer(
        string="Units Queued", compute="_compute_pico_order_status"
    )
    pico_units_sent = fields.Integer(
        string="Units Sent", compute="_compute_pico_order_status"
    )
    pico_units_in_progress = fields.Integer(
        string="Units In Progress", compute="_compute_pico_order_status"
    )
    pico_units_done = fields.Integer(
        string="Units Done", compute="_compute_pico_order_status"
    )
    pico_units_failed = fields.Integer(
        string="Units Failed", compute="_compute_pico_order_status"
    )
    pico_units_cancelled = fields.Integer(
        string="Units Cancelled", compute="_compute_pico_order_status"
    )
    pico_units_scrapped = fields.Integer(
        string="Units Scrapped", compute="_compute_pico_order_status"
    )
    pico_units_summary = fields.Char(
        string="PICO Units per State", compute="_compute_pico_order_status"
    )

    @api.depends("pico_unit_ids.state", "pico_error")
    def _compute_pico_state(self):
        for production in self:
            production.pico_state = production._pico_state_from_units()

    def _pico_state_from_units(self):
        states = set(self.pico_unit_ids.mapped("state"))
        if self.pico_error or "failed" in states:
            return "error"
        if not states:
            return "none"
        states.discard("scrapped")  # its replacement, if any, is a unit of its own
        if states <= {"cancelled"}:
            return "cancelled"
        states.discard("cancelled")
        if states == {"done"}:
            return "done"
        if states & {"in_progress", "done"}:
            return "in_progress"
        return "sent" if states == {"sent"} else "queued"

    def _compute_pico_message_count(self):
        counts = dict(
            self.env["pico.message"]
            .sudo()
            ._read_group(
                [("production_id", "in", self.ids)], ["production_id"], ["__count"]
            )
        )
        for production in self:
            production.pico_message_count = counts.get(production.sudo(), 0)

    # ------------------------------------- order status, revision warning

    @api.depends("pico_order_ref", "pico_unit_ids.state", "pico_error")
    def _compute_pico_order_status(self):
        counts = self._pico_unit_counts_by_order()
        labels = dict(
            self.env["pico.unit"]._fields["state"]._description_selection(self.env)
        )
        for production in self:
            key = (production.company_id.id, production.pico_order_ref)
            per_state = (
                counts.get(key, Counter()) if production.pico_order_ref else Counter()
            )
            for state in UNIT_STATES:
                production[f"pico_units_{state}"] = per_state.get(state, 0)
            production.pico_order_status = order_status(
                per_state, bool(production.pico_error)
            )
            production.pico_units_summary = " · ".join(
                f"{per_state[state]} {labels.get(state, state).lower()}"
                for state in UNIT_STATES
                if per_state.get(state)
            )

    def _pico_unit_counts_by_order(self):
        """{(company id, order reference): Counter(state)}, in one query."""
        refs = [ref for ref in self.mapped("pico_order_ref") if ref]
        if not refs:
            return {}
        groups = (
            self.env["pico.unit"]
            .sudo()
            ._read_group(
                [("external_order_id", "in", refs)],
                ["company_id", "external_order_id", "state"],
                ["__count"],
            )
        )
        result = {}
        for company, ref, state, count in groups:
            result.setdefault((company.id, ref), Counter())[state] = count
        return result

    @api.depends("bom_id.code", "pico_operation_id.external_revision")
    def _compute_pico_revision_warning(self):
        for production in self:
            production.pico_revision_warning = production._pico_revision_mismatch()

    def _pico_revision_mismatch(self):
        """A message when the BoM revision and PICO's revision differ, else False."""
        self.ensure_one()
        bom_revision = self.bom_id.code
        pico_revision = self.pico_operation_id.external_revision
        if not (bom_revision and pico_revision) or (
            bom_revision.strip().casefold() == pico_revision.strip().casefold()
        ):
            return False
        return self.env._(
            "BoM revision %(bom)s differs from revision %(pico)s of the PICO "
            "operation %(operation)s.",
            bom=bom_revision,
            pico=pico_revision,
            operation=self.pico_operation_id.display_name,
        )

    # ------------------------------------------------- engine-owned fields

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_engine_fields(self, ENGINE_FIELDS, vals)
        return super(
            MrpProduction, without_engine_defaults(self, ENGINE_FIELDS)
        ).create(vals_list)

    def _pico_units(self):
        """Every unit of these MOs, whatever the user's record rules: the engine
        decides on all of them."""
        return self.sudo().pico_unit_ids

    # ------------------------------------------------------------ confirm

    def action_confirm(self):
        candidates = self.filtered(
            lambda p: p.state == "draft" and p.company_id.pico_enabled
        )
        operations = candidates._pico_operations()
        candidates._pico_use_product_uom(operations)
        fractional = candidates.filtered(
            lambda p: operations[p].active and p._pico_unit_count() is None
        )
        if fractional and not self.env.su:
            raise UserError(fractional._pico_fractional_message())
        candidates -= fractional
        candidates |= candidates._pico_split_serial_orders(operations)
        result = super(
            MrpProduction,
            (self | candidates).with_context(pico_one_finished_line=candidates.ids),
        ).action_confirm()
        candidates.filtered(lambda p: p.state in OPEN_PRODUCTION_STATES)._pico_order(
            operations
        )
        for production in fractional:
            production._pico_flag_error(production._pico_fractional_message())
        ordered = (self | candidates).filtered("pico_operation_id")
        ordered._pico_log_revision_mismatches()
        ordered._pico_check_bom_mappings()
        return result

    def _pico_check_bom_mappings(self):
        """Refresh "PICO: mapping needed" on the BoMs of these orders that
        consume tracked components, the only ones PICO must name (the catalog
        sync checks every BoM)."""
        self.filtered(
            lambda p: any(c.tracking != "none" for c in p.move_raw_ids.product_id)
        ).bom_id._pico_check_mapping()

    def _pico_operations(self):
        """{production: the PICO operation it asks for}, for all these MOs in
        a constant number of queries (see ``_pico_operation``)."""
        with_bom = self.filtered("bom_id")
        of_boms = self.env["mrp.bom"]._pico_operations_of(
            [(production.bom_id, production.company_id) for production in with_bom]
        )
        result = {}
        for production in self:
            if production.bom_id:
                operation = of_boms[(production.bom_id, production.company_id)]
            else:
                template = production.product_id.product_tmpl_id.with_company(
                    production.company_id
                )
                operation = template.pico_operation_id
            result[production] = operation.with_env(self.env)
        return result

    def _pico_log_revision_mismatches(self):
        """Note on each MO where the BoM revision and PICO's revision differ
        (one batch of notes)."""
        warnings = {
            production.id: escape(warning)
            for production in self
            if (warning := production._pico_revision_mismatch())
        }
        if warnings:
            self.browse(warnings)._message_log_batch(warnings)

    def _pico_split_serial_orders(self, operations):
        """Draft orders of more serial units than their company's
        ``pico_serial_units_per_mo`` become MOs of at most that many units
        (Odoo's backorders: WH/MO/00012-001, -002, ...), before anything is
        reserved. They stay one PICO order: the reference of the order as the
        user confirmed it, its units numbered across them. Return the new MOs,
        each added to ``operations`` with its origin's operation.

        Each completion moves the rest of its MO to a backorder, serials
        reserved included: bounded MOs keep that cost bounded.
        """
        new = self.browse()
        for production in self.filtered(lambda p: operations[p].active):
            size = production.company_id.pico_serial_units_per_mo
            count = production._pico_unit_count()
            if not size or count <= size or not production._pico_serial_work():
                continue
            ref = production._pico_new_order_ref()
            one = production.product_id.uom_id._compute_quantity(
                1, production.product_uom_id
            )
            amounts = [one * size] * ((count - 1) // size)
            family = production._split_productions({production: amounts})
            for mo in family:  # 18.0 scales a draft's finished moves twice: redo
                mo.with_context(pico_splitting=True).product_qty = mo.product_qty
            family.sudo().pico_order_ref = ref
            for mo in family - production:
                operations[mo.with_env(self.env)] = operations[production]
            new |= family - production
            production._message_log(
                body=self.env._(
                    "PICO builds the %(count)s serial units of this order in "
                    "manufacturing orders of at most %(size)s units: %(orders)s.",
                    count=count,
                    size=size,
                    orders=", ".join(family.mapped("name")),
                )
            )
        return new

    def _pico_serial_work(self):
        """Whether the units of this order carry serials: the product's or
        its components'."""
        self.ensure_one()
        return "serial" in (self.product_id | self.move_raw_ids.product_id).mapped(
            "tracking"
        )

    def _pico_unit_count(self):
        """Whole units in the product's UoM, or None when not a whole number."""
        self.ensure_one()
        uom = self.product_id.uom_id
        quantity = self.product_uom_id._compute_quantity(
            self.product_qty, uom, round=False
        )
        whole = float_round(quantity, precision_digits=0)
        digits = self.env["decimal.precision"].precision_get(
            compat.PRODUCT_UOM_PRECISION
        )
        if not float_is_zero(quantity - whole, precision_digits=digits):
            return None
        return int(whole)

    def _pico_use_product_uom(self, operations):
        """PICO builds one unit of the product's UoM at a time: an order in
        another UoM (1 Dozen) becomes that many units (12 Units) before it is
        confirmed, so that each completion produces exactly one of them."""
        for production in self.filtered(
            lambda p: p.product_uom_id != p.product_id.uom_id and operations[p].active
        ):
            count = production._pico_unit_count()
            if count is None:
                continue  # refused as fractional by the caller
            ordered_qty = f"{production.product_qty:g}"  # no f-string inside _()
            note = self.env._(
                "PICO builds one unit (%(uom)s) at a time: this order for "
                "%(qty)s %(ordered)s is now for %(count)s %(uom)s.",
                uom=production.product_id.uom_id.name,
                qty=ordered_qty,
                ordered=production.product_uom_id.name,
                count=count,
            )
            production.write(
                {
                    "product_qty": count,
                    "product_uom_id": production.product_id.uom_id.id,
                }
            )
            production._message_log(body=note)

    def _pico_fractional_message(self):
        return self.env._(
            "PICO builds whole units: %(orders)s must be for a whole number of "
            "units in the product's unit of measure.",
            orders=", ".join(self.mapped("name")),
        )

    def _pico_order(self, operations=None):
        """Order every unit of these newly confirmed MOs (outbox rows, no HTTP),
        each for its operation in ``operations`` (``_pico_operations``).

        MOs that share a reference (an order confirmed as several MOs) number
        their units on from one another, in order."""
        operations = operations if operations is not None else self._pico_operations()
        unit_vals, first_index = [], defaultdict(int)
        for production in self:
            operation = operations[production]
            if not operation.active:
                production.sudo().pico_note = (
                    self.env._(
                        "The PICO operation %s is archived in PICO.", operation.name
                    )
                    if operation
                    else self.env._(
                        "No PICO operation is mapped to this product or its BoM."
                    )
                )
                continue
            ref = production._pico_new_order_ref()
            production.sudo().write(
                {"pico_order_ref": ref, "pico_operation_id": operation.id}
            )
            count = production._pico_unit_count()
            unit_vals += production._pico_unit_vals(count, first_index[ref])
            first_index[ref] += count
        self._pico_order_units(unit_vals)

    def _pico_new_order_ref(self):
        """The externalOrderId: kept once set, else the company prefix and the name."""
        self.ensure_one()
        return self.pico_order_ref or self.company_id._pico_order_ref(self.name)

    def _pico_operation(self):
        self.ensure_one()
        return self._pico_operations()[self]

    def _pico_unit_vals(self, count, first_index):
        self.ensure_one()
        return [
            {
                "external_order_id": self.pico_order_ref,
                "operation_id": self.pico_operation_id.id,
                "operation_pico_id": self.pico_operation_id.pico_id,
                "order_index": first_index + offset,
                "production_id": self.id,
                "product_id": self.product_id.id,
                "company_id": self.company_id.id,
            }
            for offset in range(count)
        ]

    def _pico_order_units(self, unit_vals):
        """Create units (values of ``_pico_unit_vals``) with the outbox
        messages that order them in PICO, at most ALIASES_PER_REQUEST units
        each: the messages first, so that each unit is written once, naming
        its message."""
        Message = self.env["pico.message"].sudo()
        Unit = self.env["pico.unit"].sudo()
        chunks = [
            (self.browse(production_id), of_production[i : i + ALIASES_PER_REQUEST])
            for production_id, of_production in groupby(
                unit_vals, key=lambda vals: vals["production_id"]
            )
            for i in range(0, len(of_production), ALIASES_PER_REQUEST)
        ]
        messages = Message._queue(
            [
                {
                    "kind": "order_save",
                    "company_id": production.company_id.id,
                    "production_id": production.id,
                    "order_ref": production.pico_order_ref,
                    "payload": Message._dump(
                        {"inputs": [Unit._save_input_of(vals) for vals in chunk]}
                    ),
                }
                for production, chunk in chunks
            ]
        )
        for message, (_production, chunk) in zip(messages, chunks, strict=True):
            for vals in chunk:
                vals["order_message_id"] = message.id
        return Unit.create(unit_vals)

    def _pico_queue_saves(self, units):
        by_production = self._pico_group_by_production(units)
        self.env["pico.message"].sudo()._queue(
            [
                {
                    "kind": "order_save",
                    "company_id": production.company_id.id,
                    "production_id": production.id,
                    "order_ref": production.pico_order_ref,
                    "unit_ids": [(6, 0, batch.ids)],
                    "payload": self.env["pico.message"]._dump(
                        {"inputs": [u._save_input() for u in batch]}
                    ),
                }
                for production, batch in by_production.items()
            ]
        )

    # ------------------------------------------------------------- cancel

    def _pico_queue_cancels(self, units):
        """Cancel units in PICO: cancelAll when no other unit of the order lives on.

        Only unstarted units: one PICO has started is never called cancelled.
        """
        units = units.filtered(lambda u: u.state in UNSTARTED_STATES)
        messages = []
        for production, batch in self._pico_group_by_production(units).items():
            siblings = (
                self.env["pico.unit"]
                .sudo()
                .search_count(
                    [
                        ("company_id", "=", production.company_id.id),
                        ("external_order_id", "=", production.pico_order_ref),
                        (
                            "operation_pico_id",
                            "=",
                            production.pico_operation_id.pico_id,
                        ),
                        ("state", "in", UNSTARTED_STATES),
                        ("id", "not in", batch.ids),
                    ]
                )
            )
            if siblings:
                inputs = [u._cancel_input() for u in batch]
            else:
                inputs = [
                    {
                        "externalOrderId": production.pico_order_ref,
                        "operationId": production.pico_operation_id.pico_id,
                        "cancelAll": True,
                    }
                ]
            messages.append(
                {
                    "kind": "order_cancel",
                    "company_id": production.company_id.id,
                    "production_id": production.id,
                    "order_ref": production.pico_order_ref,
                    "unit_ids": [(6, 0, batch.ids)],
                    "payload": self.env["pico.message"]._dump({"inputs": inputs}),
                }
            )
        units.sudo()._set_cancelled()
        self.env["pico.message"].sudo()._queue(messages)

    def _pico_group_by_production(self, units):
        groups = defaultdict(lambda: self.env["pico.unit"])
        for unit in units:
            groups[unit.production_id] |= unit
        return groups

    def _action_cancel(self):
        if self.env.context.get("pico_cancelling"):  # mrp re-enters through moves
            return super()._action_cancel()
        units = self._pico_units().filtered(lambda u: u.state != "cancelled")
        result = super(
            MrpProduction, self.with_context(pico_cancelling=True)
        )._action_cancel()
        self._pico_release_units(units)
        return result

    def _pico_release_units(self, units):
        """Units PICO is no longer to build for Odoo.

        Unstarted ones are cancelled in PICO. Started (or finished) ones cannot
        be, so they keep their state and their MO says why.
        """
        unstarted = units.filtered(lambda u: u.state in UNSTARTED_STATES)
        if unstarted:
            self._pico_queue_cancels(unstarted)
        started = self._pico_group_by_production(units - unstarted)
        if not started:
            return
        productions = self.browse([p.id for p in started])
        productions._message_log_batch(  # a log: no e-mail, so no sender needed
            {
                production.id: self.env._(
                    "PICO had already started or finished units %(units)s: they "
                    "cannot be cancelled in PICO. Later completions will be listed "
                    "as unmatched PICO messages.",
                    units=", ".join(str(i) for i in batch.mapped("order_index")),
                )
                for production, batch in started.items()
            }
        )

    # ------------------------------------------------------ hand production

    def button_mark_done(self):
        pico_orders = self.filtered(
            lambda p: p.pico_order_ref and p.state in OPEN_PRODUCTION_STATES
        )
        result = super().button_mark_done()
        pico_orders._pico_release_hand_produced()
        return result

    def _pico_release_hand_produced(self):
        """Open units left on MOs now done: Odoo produced (or dropped) them by hand.

        The unit PICO itself just completed (context ``pico_keep_unit_ids``) is
        not one of them.
        """
        keep = set(self.env.context.get("pico_keep_unit_ids") or [])
        units = (
            self.filtered(lambda p: p.state == "done")
            ._pico_units()
            .filtered(lambda u: u.state in OPEN_STATES and u.id not in keep)
        )
        if units:
            self._pico_release_units(units)

    # ------------------------------------------------- quantity and splits

    def write(self, vals):
        check_engine_fields(self, ENGINE_FIELDS, vals)
        result = super().write(vals)
        if "product_qty" in vals and not self.env.context.get("pico_splitting"):
            self.filtered(
                lambda p: p.pico_order_ref and p.state in OPEN_PRODUCTION_STATES
            )._pico_follow_quantity()
        return result

    def _pico_follow_quantity(self):
        """More units: order new indexes. Fewer: cancel the highest unstarted ones."""
        for production in self:
            wanted = production._pico_unit_count()
            if wanted is None:
                raise UserError(production._pico_fractional_message())
            active = production._pico_units().filtered(lambda u: u.state in OPEN_STATES)
            if wanted > len(active):
                next_index = production._pico_next_index()
                production._pico_order_units(
                    production._pico_unit_vals(wanted - len(active), next_index)
                )
            elif wanted < len(active):
                production._pico_cancel_highest(active, len(active) - wanted)

    def _pico_cancel_highest(self, active, count):
        unstarted = active.filtered(lambda u: u.state in UNSTARTED_STATES).sorted(
            "order_index", reverse=True
        )
        if len(unstarted) < count:
            raise UserError(
                self.env._(
                    "Only %(free)s units of %(mo)s have not started in PICO; the "
                    "quantity cannot drop by %(count)s.",
                    free=len(unstarted),
                    mo=self.name,
                    count=count,
                )
            )
        self._pico_queue_cancels(unstarted[:count])

    def _pico_next_index(self):
        self.ensure_one()
        self.env["pico.unit"].flush_model()
        self.env.cr.execute(
            "SELECT COALESCE(MAX(order_index) + 1, 0) FROM pico_unit"
            " WHERE external_order_id = %s AND operation_pico_id = %s",
            (self.pico_order_ref, self.pico_operation_id.pico_id),
        )
        return self.env.cr.fetchone()[0]

    def _get_name_backorder(self, name, sequence):
        """An MO of a PICO order split again keeps one suffix, as Odoo 19.0
        names it: WH/MO/00012-001 stays WH/MO/00012-001 once its family has
        other backorders (18.0 makes it WH/MO/00012-001-001)."""
        suffix = BACKORDER_SUFFIX.search(name or "")
        if (
            sequence == 1
            and suffix
            and any(self.mapped("pico_order_ref"))
            and max(compat.production_family(self).mapped("backorder_sequence")) > 1
        ):
            return name[: suffix.start()] + super()._get_name_backorder("", 1)
        return super()._get_name_backorder(name, sequence)

    def _split_productions(
        self, amounts=False, cancel_remaining_qty=False, set_consumed_qty=False
    ):
        holders = {
            p: p._pico_units().filtered(lambda u: u.state in OPEN_STATES) for p in self
        }
        productions = super(
            MrpProduction, self.with_context(pico_splitting=True)
        )._split_productions(amounts, cancel_remaining_qty, set_consumed_qty)
        productions = productions.with_env(self.env)
        if any(holders.values()):
            if any(p._pico_unit_count() is None for p in productions):
                raise UserError(productions._pico_fractional_message())
            self._pico_distribute_units(productions, holders)
        carried = self.env.context.get("pico_carried_lines")
        if carried:  # a picking type that reserves by hand: Odoo assigned nothing
            moves = productions.move_raw_ids | productions.move_finished_ids
            moves._pico_take_carried_lines(carried)._recompute_state()
        self.env["pico.floor.time"]._follow_units(productions)
        return productions

    def _pico_distribute_units(self, productions, holders):
        """Hand each MO of a split as many open units as it now builds.

        Units named in context ``pico_keep_unit_ids`` come first, in that order
        (the original MO, then the first split-off ones); then unstarted units
        before started ones (the original MO is the one a user produces by hand:
        PICO's started work goes on in the backorder), each in index order.
        Nothing new is sent to PICO.
        """
        keep = {
            unit_id: rank
            for rank, unit_id in enumerate(
                self.env.context.get("pico_keep_unit_ids") or []
            )
        }
        chains, origin = defaultdict(list), None
        for production in productions:
            if production in holders:
                origin = production
            chains[origin].append(production)
        for origin, chain in chains.items():
            units = holders[origin].sorted(
                lambda u: (
                    keep.get(u.id, len(keep)),
                    u.state not in UNSTARTED_STATES,
                    u.order_index,
                )
            )
            for production in chain:
                count = production._pico_unit_count()
                taken, units = units[:count], units[count:]
                if production != origin:
                    production.sudo().write(
                        {
                            "pico_order_ref": origin.pico_order_ref,
                            "pico_operation_id": origin.pico_operation_id.id,
                        }
                    )
                if taken:
                    taken.sudo().production_id = production
            if units:
                self._pico_release_units(units)

    # ------------------------------------------------------ attention, UI

    def _pico_flag_error(self, error):
        """Show a failure on the MO: status, chatter, and an activity."""
        for production in self:
            production.sudo().pico_error = error
            production._pico_schedule_activity(error)

    def _pico_schedule_activity(self, note):
        """One "PICO: action needed" task per MO: while one is open, a repeated
        problem of the order adds none (each stays in the PICO messages)."""
        self.ensure_one()
        attention = self.env.ref(ATTENTION_ACTIVITY)
        if self.sudo().activity_ids.filtered(lambda a: a.activity_type_id == attention):
            return
        user = self.user_id or self.env.ref("base.user_admin", raise_if_not_found=False)
        self.sudo().activity_schedule(
            ATTENTION_ACTIVITY,
            note=note,
            user_id=user.id if user else self.env.uid,
        )

    def action_view_pico_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "pico_mes.pico_message_action"
        )
        action["domain"] = [("production_id", "=", self.id)]
        action["context"] = {"search_default_production_id": self.id}
        return action

    def action_view_pico_units(self):
        """The units of this MO's PICO order, optionally in one state (context)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "pico_mes.pico_unit_action"
        )
        domain = [
            ("external_order_id", "=", self.pico_order_ref),
            ("company_id", "=", self.company_id.id),
        ]
        state = self.env.context.get("pico_unit_state")
        if state:
            domain.append(("state", "=", state))
        action["domain"] = domain
        action["context"] = {}
        return action

    def action_pico_retry(self):
        """Retry what failed for these MOs and clear their PICO error (PICO
        Managers)."""
        check_pico_manager(
            self.env,
            self.env._("Only a PICO Manager can retry or discard PICO messages."),
        )
        failed = self.pico_message_ids.filtered(lambda m: m.state == "failed")
        failed.action_retry()
        self.sudo().pico_error = False
        self.activity_unlink(["pico_mes.mail_activity_pico_attention"])
        return True
