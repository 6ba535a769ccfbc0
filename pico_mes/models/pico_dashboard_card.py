from datetime import timedelta

from odoo import api, fields, models

COMPLETIONS_HOURS = 24


class PicoDashboardCard(models.Model):
    """One figure of the planners' PICO dashboard and the records behind it.

    The cards are data records; their figure is counted when read, with the
    reader's rights and companies, on exactly the domain its link opens.
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
        ],
        required=True,
    )
    description = fields.Char(translate=True)
    count = fields.Integer(compute="_compute_count")
    color = fields.Integer(compute="_compute_count")

    _sql_constraints = [("code_uniq", "unique(code)", "One card per figure.")]

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_count(self):
        for card in self:
            model, domain = card._pico_target()
            records = self.env[model]
            readable = records.has_access("read")
            card.count = records.search_count(domain) if readable else 0
            alarming = card.code in ("errors", "unmatched") and card.count
            card.color = 1 if alarming else 0

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
        since = fields.Datetime.now() - timedelta(hours=COMPLETIONS_HOURS)
        return "pico.unit", companies + [
            ("state", "in", ("done", "scrapped")),  # scrapped after PICO built it
            ("completed_at", ">=", fields.Datetime.to_string(since)),
        ]

    def action_open(self):
        self.ensure_one()
        model, domain = self._pico_target()
        views = {
            "mrp.production": "list,kanban,form",
            "pico.unit": "graph,list,form",
            "pico.message": "list,form",
        }[model]
        context = {}
        if self.code == "in_progress":
            context = {"graph_groupbys": ["product_id", "station"]}
        elif self.code == "completions":
            context = {"graph_groupbys": ["completed_at:hour"]}
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": model,
            "view_mode": views,
            "domain": domain,
            "context": context,
        }
