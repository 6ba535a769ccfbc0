from odoo import api, fields, models
from odoo.tools import html2plaintext

from ..services import bom_transfer


class MrpRoutingWorkcenter(models.Model):
    """A BoM operation sent to PICO by a BoM transfer: a process and a station."""

    _inherit = "mrp.routing.workcenter"

    pico_wi_process_id = fields.Char(
        string="PICO Process ID", compute="_compute_pico_wi_ids"
    )
    pico_wi_station_id = fields.Char(
        string="PICO Station ID", compute="_compute_pico_wi_ids"
    )

    @api.depends("bom_id.company_id", "workcenter_id")
    def _compute_pico_wi_ids(self):
        for operation in self:
            company = operation.bom_id.company_id or self.env.company
            prefix = company._pico_wi_prefix()
            operation.pico_wi_process_id = (
                bom_transfer.make_id(prefix, "op", operation.id)
                if operation.id
                else False
            )
            operation.pico_wi_station_id = (
                bom_transfer.make_id(prefix, "wc", operation.workcenter_id.id)
                if operation.workcenter_id.id
                else False
            )

    def _pico_instructions(self):
        """The operation's text worksheet (its note), or its Google Slide link."""
        self.ensure_one()
        text = html2plaintext(self.note or "").strip()
        if self.worksheet_type == "google_slide" and self.worksheet_google_slide:
            text = "\n".join(filter(None, [text, self.worksheet_google_slide]))
        return text or None
