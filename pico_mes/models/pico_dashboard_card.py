from datetime import timedelta

from odoo import api, fields, models

from .. import compat

COMPLETIONS_HOURS = 24
PICTURE_VIEWS = {  # card code: (view type, view xml id)
    "in_progress": ("graph", "pico_mes.pico_unit_view_graph_stations"),
    "completions": ("graph", "pico_mes.pico_unit_view_graph_completions"),
    "process_times": ("pivot", "pico_mes.pico_operation_time_view_pivot"),
}


class PicoDashboardCard(models.Model):
    """One figure of the planners' PICO dashboard, the records behind it, and
    for some a picture of those records (Odoo's graph or pivot view).

    The cards are data records; their figure is counted when read, with the
    reader's rights and companies, on exactly the domain its link opens; the
    picture groups the records of the domain ``_pico_picture_target`` gives.
    """

    _name = "pico.dashboard.card"
    _description = "PICO Dashboard Card"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    code = fields.Selection(
        [
            ("waiting", "Orders waiting to be sent"),
            ("in_progress", "Units in progress"),
            ("errors", "Orders with a PICO error"),
            ("unmatched", "Completions to look at"),
            ("completions", "Completions in the last 24 hours"),
            ("process_times", "Expected times far from PICO's"),
        ],
        required=True,
    )
    description = fields.Char(translate=True)
    count = fields.Integer(compute="_compute_count")
    color = fields.Integer(compute="_compute_count")
    picture = fields.Json(
        compute="_compute_picture",
        help="The picture's view, model, domain and context (none: no picture).",
    )

    _code_uniq = compat.Constraint("unique(code)", "One card per figure.")

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_count(self):
        for card in self:
            model, domain = card._pico_target()
            records = self.env[model]
            readable = records.has_access("read")
            card.count = records.search_count(domain) if readable else 0
            alarming = card.code in ("errors", "unmatched", "process_times")
            card.color = 1 if alarming and card.count else 0

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_picture(self):
        for card in self:
            card.picture = card._pico_picture() or False

    def _pico_target(self):
        """(model, domain) of the records this card counts and opens."""
        self.ensure_one()
        companies = [("company_id", "in", self.env.companies.ids)]
        if self.code == "waiting":
            return "mrp.production", companies + [
                ("pico_unit_ids.state", "=", "queued")
            ]
        if self.code == "in_progress":
            return "pico.unit", companies + [("state", "=", "in_progress")]
        if self.code == "errors":
            return "mrp.production", companies + [("pico_state", "=", "error")]
        if self.code == "unmatched":
            return "pico.message", companies + [
                ("direction", "=", "in"),
                ("state", "in", ("failed", "unmatched")),
            ]
        if self.code == "process_times":
            return "pico.operation.time", companies + [("flagged", "=", True)]
        return "pico.unit", companies + [
            ("state", "in", ("done", "scrapped")),  # scrapped after PICO built it
            ("completed_at", ">=", fields.Datetime.to_string(self._pico_since())),
        ]

    def _pico_picture_target(self):
        """(model, domain) of the records the picture groups: the card's own,
        but every measured operation for the process times (not only those
        flagged)."""
        self.ensure_one()
        if self.code == "process_times":
            return "pico.operation.time", [("company_id", "in", self.env.companies.ids)]
        return self._pico_target()

    def _pico_since(self):
        return fields.Datetime.now().replace(minute=0, second=0) - timedelta(
            hours=COMPLETIONS_HOURS - 1
        )

    def _pico_picture(self):
        """What the dashboard's picture widget renders, or None."""
        self.ensure_one()
        if self.code not in PICTURE_VIEWS:
            return None
        view_type, view_xmlid = PICTURE_VIEWS[self.code]
        model, domain = self._pico_picture_target()
        if not self.env[model].has_access("read"):
            return None
        return {
            "res_model": model,
            "view_type": view_type,
            "view_id": self.env.ref(view_xmlid).id,
            "domain": domain,
            "context": {},
            "wide": self.code == "completions",
        }

    def action_open(self):
        self.ensure_one()
        model, domain = self._pico_target()
        views = {
            "mrp.production": "list,kanban,form",
            "pico.unit": "list,graph,form",
            "pico.message": "list,form",
            "pico.operation.time": "list,pivot",
        }[model]
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": model,
            "view_mode": views,
            "domain": domain,
        }
