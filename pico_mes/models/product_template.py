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

    def _auto_init(self):
        """Upgrade: turn the former single-company column into per-company values."""
        self.env.cr.execute(
            """SELECT data_type FROM information_schema.columns
                WHERE table_name = 'product_template'
                  AND column_name = 'pico_operation_id'"""
        )
        row = self.env.cr.fetchone()
        if row and row[0] == "integer":
            self.env.cr.execute(
                """
ALTER TABLE product_template
    DROP CONSTRAINT IF EXISTS product_template_pico_operation_id_fkey;
ALTER TABLE product_template RENAME COLUMN pico_operation_id TO pico_single;
ALTER TABLE product_template ADD COLUMN pico_operation_id jsonb;
UPDATE product_template t
   SET pico_operation_id = jsonb_build_object(o.company_id::text, o.id)
  FROM pico_operation o
 WHERE o.id = t.pico_single;
ALTER TABLE product_template DROP COLUMN pico_single;"""
            )
        return super()._auto_init()

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
