from odoo import fields, models

from ..services import documents
from ..services.client import PicoError
from ..services.conflicts import expected_conflicts


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
    pico_allow_bom_transfer = fields.Boolean(
        related="company_id.pico_allow_bom_transfer", readonly=False
    )
    pico_bom_transfer_check = fields.Selection(
        related="company_id.pico_bom_transfer_check"
    )
    pico_bom_transfer_problem = fields.Text(
        related="company_id.pico_bom_transfer_problem"
    )

    def _compute_pico_webhook_url(self):
        for settings in self:
            settings.pico_webhook_url = settings.company_id._pico_webhook_url()

    def action_pico_test_connection(self):
        """Reach PICO, then check every document the addon sends against its schema
        and whether PICO accepts the BoM transfer (which is disabled when not)."""
        self.ensure_one()
        try:
            with self.company_id._pico_client() as client:
                client.execute(documents.PING)
                problems = self._pico_schema_problems(client)
        except PicoError as exc:
            return self._pico_notify(
                self.env._("PICO connection failed"), str(exc), "danger"
            )
        if problems:
            title = self.env._("Connected, but PICO's schema differs")
            message = "; ".join(
                f"{name}: {', '.join(p)}" for name, p in problems.items()
            )
            kind = "warning"
        else:
            title = self.env._("Connected to PICO")
            message = self.env._(
                "Every document the connector sends is valid on this instance."
            )
            kind = "success"
        transfer_problems = self.company_id._pico_check_bom_transfer()
        if transfer_problems and self.company_id.pico_allow_bom_transfer:
            message = "\n".join(
                [message, self.env._("BoM transfer is disabled:"), *transfer_problems]
            )
            kind = "warning"
        return self._pico_notify(title, message, kind)

    def _pico_schema_problems(self, client):
        """Validate our documents against the live schema, where PICO introspects."""
        from graphql import build_client_schema, get_introspection_query

        try:
            data = client.execute(get_introspection_query(descriptions=False))
        except PicoError:
            return {}  # introspection disabled: nothing more to check
        return documents.schema_problems(build_client_schema(data))

    def action_pico_sync_operations(self):
        self.ensure_one()
        Operation = self.env["pico.operation"]
        try:
            # a concurrent sync (another node) conflicts: Odoo runs the click again
            with expected_conflicts():
                created, updated = Operation._pico_sync_company(self.company_id)
        except PicoError as exc:
            return self._pico_notify(self.env._("PICO sync failed"), str(exc), "danger")
        return self._pico_notify(
            self.env._("PICO operations synced"),
            self.env._(
                "%(created)s new, %(updated)s updated.",
                created=created,
                updated=updated,
            ),
            "success",
        )

    def action_pico_register_webhooks(self):
        self.ensure_one()
        try:
            self.company_id._pico_register_webhooks()
        except PicoError as exc:
            return self._pico_notify(
                self.env._("PICO webhook registration failed"), str(exc), "danger"
            )
        return self._pico_notify(
            self.env._("PICO webhooks registered"),
            self.env._("PICO will call %s.", self.company_id._pico_webhook_url()),
            "success",
        )

    def action_pico_rotate_webhook_secret(self):
        self.ensure_one()
        self.company_id._pico_rotate_webhook_secret()
        return self.action_pico_register_webhooks()

    def _pico_notify(self, title, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "sticky": kind != "success",
            },
        }
