from urllib.parse import quote

from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    pico_unit_link = fields.Char(
        string="PICO Unit Link",
        help="The address of a unit in PICO's web application. {order} and {index} "
        "are replaced by the unit's PICO order reference and index, e.g. "
        "https://acme.picomes.com/orders/{order}/{index}. Empty: no link.",
    )

    def _pico_unit_url(self, order, index):
        self.ensure_one()
        template = (self.pico_unit_link or "").strip()
        if not template:
            return False
        return template.replace("{order}", quote(order or "", safe=":")).replace(
            "{index}", str(index)
        )
