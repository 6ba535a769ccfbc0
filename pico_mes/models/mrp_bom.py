from odoo import fields, models


class MrpBom(models.Model):
    _inherit = "mrp.bom"

    pico_operation_id = fields.Many2one(
        "pico.operation",
        string="PICO Operation",
        index="btree_not_null",
        copy=False,
        help="Overrides the product's PICO operation for orders using this BoM.",
    )

    def _pico_operation(self):
        """The operation an order built with this BoM asks PICO for."""
        self.ensure_one()
        return self.pico_operation_id or self.product_tmpl_id.pico_operation_id
