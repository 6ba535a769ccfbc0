from odoo import api, fields, models


class MrpBom(models.Model):
    _inherit = "mrp.bom"

    pico_operation_id = fields.Many2one(
        "pico.operation",
        string="PICO Operation",
        index="btree_not_null",
        copy=False,
        check_company=True,
        help="Overrides the product's PICO operation for orders using this BoM.",
    )
    pico_effective_operation_id = fields.Many2one(
        "pico.operation",
        string="Effective PICO Operation",
        compute="_compute_pico_effective_operation_id",
        help="The BoM's own operation, else its product's in this company.",
    )

    @api.depends("pico_operation_id", "product_tmpl_id.pico_operation_id", "company_id")
    @api.depends_context("company")
    def _compute_pico_effective_operation_id(self):
        for bom in self:
            bom.pico_effective_operation_id = bom._pico_operation()

    def _pico_operation(self, company=None):
        """The operation an order of ``company`` built with this BoM asks PICO for.

        A shared BoM naming another company's operation means the same PICO
        operation as synced for ``company``.
        """
        self.ensure_one()
        company = company or self.company_id or self.env.company
        operation = self.pico_operation_id
        if operation and operation.company_id != company:
            operation = operation.search(
                [("pico_id", "=", operation.pico_id), ("company_id", "=", company.id)],
                limit=1,
            )
        if operation:
            return operation
        template = self.product_tmpl_id.with_company(company)
        return template.pico_operation_id.with_env(self.env)
