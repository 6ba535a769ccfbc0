from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    pico_unit_link = fields.Char(related="company_id.pico_unit_link", readonly=False)
