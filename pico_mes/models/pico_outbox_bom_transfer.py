from odoo import api, models

from ..exceptions import PicoError
from ..services import documents


class PicoOutbox(models.AbstractModel):
    """The outbox also delivers BoM transfers: one Work Instructions call each."""

    _inherit = "pico.outbox"

    @api.model
    def _dispatched_kinds(self):
        return (*super()._dispatched_kinds(), "bom_transfer")

    @api.model
    def _deliver_with(self, client, messages):
        super()._deliver_with(client, messages)
        for message in messages.filtered(lambda m: m.kind == "bom_transfer"):
            payload = message._payload()
            document = documents.WORK_INSTRUCTION_DOCUMENTS[payload["document"]]
            try:
                data = client.execute(document, payload["variables"])
            except PicoError as exc:
                self._failed(message, exc)
                continue
            message._set_done(data)
