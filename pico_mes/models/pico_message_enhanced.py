from odoo import fields, models

from ..services import documents
from ..services.client import PicoError


class PicoMessage(models.Model):
    """The enhanced tier's messages (issue 13).

    BoM transfer: one outbox message per Work Instructions call. They share an
    ``order_ref`` per BoM, so the dispatcher sends them in creation order
    (stations, processes, then the product that names the processes) and holds
    the rest back while one waits for a retry or has failed.
    Scrap: a late completion of a scrapped unit is unmatched, with the reason.
    """

    _inherit = "pico.message"

    kind = fields.Selection(
        selection_add=[("bom_transfer", "Send BoM to PICO")],
        ondelete={"bom_transfer": "cascade"},
    )
    bom_id = fields.Many2one(
        "mrp.bom",
        string="Bill of Materials",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )

    def _pico_send_bom_transfer(self, client):
        """Deliver these ``bom_transfer`` messages, one call each, in order."""
        held_back = set()
        for message in self.sorted("id"):
            if message.order_ref in held_back:
                continue
            payload = message._payload()
            document = documents.WORK_INSTRUCTION_DOCUMENTS[payload["document"]]
            try:
                data = client.execute(document, payload["variables"])
            except PicoError as exc:
                message._delivery_failed(exc, exc.retryable)
                held_back.add(message.order_ref)
                continue
            message._delivered({message.id: data})

    def _processed(self, state, unit=None):
        """A completion of a scrapped unit is unmatched: say why on the message."""
        result = super()._processed(state, unit)
        if state == "unmatched" and unit and unit.state == "scrapped":
            self.error = self.env._(
                "Unit %(unit)s was scrapped in Odoo (%(reason)s): this completion "
                "changes no stock.",
                unit=unit.display_name,
                reason=unit.scrap_reason,
            )
        return result
