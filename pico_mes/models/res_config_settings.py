from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    pico_enabled = fields.Boolean(related="company_id.pico_enabled", readonly=False)
    pico_api_url = fields.Char(related="company_id.pico_api_url", readonly=False)
    pico_api_token = fields.Char(related="company_id.pico_api_token", readonly=False)
    pico_public_url = fields.Char(related="company_id.pico_public_url", readonly=False)
    pico_outbound_waiting_count = fields.Integer(
        related="company_id.pico_outbound_waiting_count"
    )
    pico_order_prefix = fields.Char(
        related="company_id.pico_order_prefix", readonly=False
    )
    pico_webhook_url = fields.Char(
        string="PICO Webhook URL", compute="_compute_pico_webhook_url"
    )
    pico_unit_link = fields.Char(related="company_id.pico_unit_link", readonly=False)
    pico_serial_units_per_mo = fields.Integer(
        related="company_id.pico_serial_units_per_mo", readonly=False
    )
    pico_allow_bom_transfer = fields.Boolean(
        related="company_id.pico_allow_bom_transfer", readonly=False
    )
    pico_bom_transfer_check = fields.Selection(
        related="company_id.pico_bom_transfer_check"
    )
    pico_bom_transfer_problem = fields.Text(
        related="company_id.pico_bom_transfer_problem"
    )

    # A copy of the database: why PICO is held, and the confirmation of its prefix
    pico_copy_hold_reason = fields.Text(related="company_id.pico_copy_hold_reason")
    pico_new_order_prefix = fields.Char(
        string="New PICO Order Prefix",
        default=lambda self: self.env.company._pico_proposed_prefix(),
        help="The order prefix this copy sends under once confirmed; never the "
        "original database's.",
    )
    # Neighbours on a shared PICO
    pico_foreign_count = fields.Integer(related="company_id.pico_foreign_count")
    pico_foreign_prefixes = fields.Char(related="company_id.pico_foreign_prefixes")

    def _compute_pico_webhook_url(self):
        for settings in self:
            settings.pico_webhook_url = settings.company_id._pico_webhook_url()

    # Test, sync and register run the connector's engine as superuser, as
    # *PICO MES > Connection* does for PICO Managers; only Settings
    # administrators open this page.

    def action_pico_test_connection(self):
        self.ensure_one()
        return self.env["pico.connection"]._pico_test_connection(self.company_id.sudo())

    def action_pico_sync_operations(self):
        self.ensure_one()
        return self.env["pico.connection"]._pico_sync_operations(self.company_id.sudo())

    def action_pico_register_webhooks(self):
        self.ensure_one()
        return self.env["pico.connection"]._pico_register_webhooks(
            self.company_id.sudo()
        )

    def action_pico_rotate_webhook_secret(self):
        self.ensure_one()
        self.company_id._pico_rotate_webhook_secret()
        return self.action_pico_register_webhooks()

    def action_pico_confirm_new_prefix(self):
        """In a copy: take the new prefix, then register this copy's webhooks."""
        self.ensure_one()
        company = self.company_id
        company._pico_confirm_new_prefix(self.pico_new_order_prefix)
        Connection = self.env["pico.connection"]
        title = self.env._(
            "PICO resumes under the order prefix %s", self.pico_new_order_prefix
        )
        if not (company.pico_enabled and company.pico_api_url):
            return Connection._pico_notify(
                title, self.env._("Enable PICO, then register the webhooks."), "success"
            )
        answer = Connection._pico_register_webhooks(company.sudo())
        answer["params"]["title"] = title
        return answer
