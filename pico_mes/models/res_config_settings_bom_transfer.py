from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    pico_allow_bom_transfer = fields.Boolean(
        related="company_id.pico_allow_bom_transfer", readonly=False
    )
    pico_bom_transfer_check = fields.Selection(
        related="company_id.pico_bom_transfer_check"
    )
    pico_bom_transfer_problem = fields.Text(
        related="company_id.pico_bom_transfer_problem"
    )

    def action_pico_test_connection(self):
        """Also check the BoM transfer mutations; say so when they differ."""
        result = super().action_pico_test_connection()
        params = result.get("params", {}) if isinstance(result, dict) else {}
        if params.get("type") == "danger":
            return result
        problems = self.company_id._pico_check_bom_transfer()
        if problems and self.company_id.pico_allow_bom_transfer:
            params["message"] = "\n".join(
                [
                    params.get("message", ""),
                    self.env._("BoM transfer is disabled:"),
                    *problems,
                ]
            )
            params["type"], params["sticky"] = "warning", True
        return result
