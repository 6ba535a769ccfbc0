from collections import defaultdict

from odoo import api, fields, models


class MrpBomLine(models.Model):
    _inherit = "mrp.bom.line"

    pico_attribute_id = fields.Many2one(
        "pico.operation.attribute",
        string="PICO Serial Attribute",
        index="btree_not_null",
        check_company=True,
        help="The consumed-serial attribute of the PICO operation whose scanned "
        "serial is this component's lot.",
    )

    @api.model
    def _pico_auto_map_attributes(self, company):
        """Link tracked component lines to attributes by component internal reference.

        Several attributes or several lines answering to one code link nothing.
        """
        attributes = self.env["pico.operation.attribute"].search(
            [("company_id", "=", company.id), ("external_id", "!=", False)]
        )
        if not attributes:
            return
        by_operation_code = defaultdict(list)
        for attribute in attributes:
            key = (attribute.operation_id.id, attribute.external_id)
            by_operation_code[key].append(attribute.id)
        lines = self.search(
            [
                ("pico_attribute_id", "=", False),
                ("product_id.default_code", "in", attributes.mapped("external_id")),
                ("bom_id.company_id", "in", [company.id, False]),
            ]
        )
        lines_by_key = defaultdict(lambda: self.browse())
        for line in lines:
            operation = line.bom_id._pico_operation(company)
            key = (operation.id, line.product_id.default_code)
            if key in by_operation_code:
                lines_by_key[(line.bom_id.id, key)] |= line
        for (_bom_id, key), bom_lines in lines_by_key.items():
            if len(bom_lines) == 1 and len(by_operation_code[key]) == 1:
                bom_lines.pico_attribute_id = by_operation_code[key][0]
