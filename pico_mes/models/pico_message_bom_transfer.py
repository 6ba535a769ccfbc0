from odoo import fields, models


class PicoMessage(models.Model):
    """BoM transfer messages: one outbox message per Work Instructions call.

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
