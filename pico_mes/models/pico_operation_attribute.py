from odoo import api, fields, models

from .. import compat


class PicoOperationAttribute(models.Model):
    """A serialized component a PICO operation consumes (``consumedSerials``)."""

    _name = "pico.operation.attribute"
    _description = "PICO Consumed Serial Attribute"
    _order = "operation_id, id"

    operation_id = fields.Many2one(
        "pico.operation", required=True, ondelete="cascade", index=True
    )
    pico_id = fields.Char(string="PICO ID", required=True, index=True)
    external_id = fields.Char(string="Component Part Number", index=True)
    company_id = fields.Many2one(related="operation_id.company_id", store=True)

    _operation_pico_id_uniq = compat.Constraint(
        "unique(operation_id, pico_id)", "An operation lists each consumed serial once."
    )

    @api.depends("pico_id", "external_id", "operation_id.name")
    def _compute_display_name(self):
        for attribute in self:
            label = attribute.external_id or attribute.pico_id
            attribute.display_name = f"{attribute.operation_id.name}: {label}"
