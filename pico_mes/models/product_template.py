from odoo import api, fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    pico_operation_id = fields.Many2one(
        "pico.operation",
        string="PICO Operation",
        company_dependent=True,
        check_company=True,
        copy=False,
        help="What PICO builds when a manufacturing order for this product is "
        "confirmed (a BoM may override it). Each company maps a shared product "
        "to its own operation.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        templates = super().create(vals_list)
        self.env["pico.operation"]._pico_refresh_mapping_state(
            templates.pico_operation_id
        )
        return templates

    def write(self, vals):
        if "pico_operation_id" not in vals:
            return super().write(vals)
        before = self.pico_operation_id
        result = super().write(vals)
        self.env["pico.operation"]._pico_refresh_mapping_state(
            before | self.pico_operation_id
        )
        return result
