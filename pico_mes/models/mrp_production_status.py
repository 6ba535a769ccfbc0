from collections import Counter

from odoo import api, fields, models

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
            else ("partly_done")
        )
    return "sent" if active == {"sent"} else "queued"


class MrpProduction(models.Model):
    """PICO's status of the order at a glance: status and units per state.

    The order is PICO's (``pico_order_ref``): an MO and its backorders, which
    share the reference, show the same figures.
    """

    _inherit = "mrp.production"

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

    @api.depends("pico_unit_ids.state", "pico_error")
    def _compute_pico_state(self):
        """A scrapped unit no longer counts for the MO's status (its replacement
        does): compute on the other units."""
        result = super()._compute_pico_state()
        for production in self:
            units = production.pico_unit_ids
            if "scrapped" not in units.mapped("state"):
                continue
            status = order_status(
                set(units.mapped("state")) - {"scrapped"} or {"cancelled"},
                bool(production.pico_error),
            )
            production.pico_state = {"partly_done": "done"}.get(status, status)
        return result

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
