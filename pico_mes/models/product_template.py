from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    pico_operation_id = fields.Many2one(
        "pico.operation",
        string="PICO Operation",
        index="btree_not_null",
        copy=False,
        help="What PICO builds when a manufacturing order for this product is "
        "confirmed (a BoM may override it).",
    )
