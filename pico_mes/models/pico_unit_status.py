from odoo import fields, models


class PicoUnit(models.Model):
    _inherit = "pico.unit"

    product_id = fields.Many2one(
        "product.product",
        related="production_id.product_id",
        store=True,
        index=True,
        string="Product",
    )
