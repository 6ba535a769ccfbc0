from odoo import fields, models

from ..services import documents
from ..services.client import PicoError


class PicoMessage(models.Model):
    """Outbox messages of the BoM transfer: one Work Instructions call each.

    They share an ``order_ref`` per BoM, so the dispatcher sends them in creation
    order (stations, processes, then the product that names the processes) and
    holds the rest back while one waits for a retry or has failed.
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
