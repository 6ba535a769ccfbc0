from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..access import check_pico_manager
from ..services import documents
from ..services.client import PicoError
from ..services.conflicts import expected_conflicts


class PicoConnection(models.TransientModel):
    """*PICO MES > Connection*: test the connection, sync operations, register
    webhooks. For PICO Managers, who are neither Settings nor Manufacturing
    administrators; the settings page calls the same actions for Settings
    administrators.

    The actions run the engine as superuser once the caller is allowed: it reads
    the API token and the webhook secret, which no field here shows.
    """

    _name = "pico.connection"
    _description = "PICO Connection"

    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.user.company_ids.ids)],
    )
    pico_enabled = fields.Boolean(related="company_id.pico_enabled")
    pico_api_url = fields.Char(related="company_id.pico_api_url")
    pico_webhook_url = fields.Char(
        string="PICO Webhook URL", compute="_compute_pico_webhook_url"
    )
    pico_operations_synced_until = fields.Datetime(
        string="Operations Synced Until",
        related="company_id.pico_operations_synced_until",
    )
    pico_bom_transfer_check = fields.Selection(
        related="company_id.pico_bom_transfer_check"
    )
    pico_bom_transfer_problem = fields.Text(
        related="company_id.pico_bom_transfer_problem"
    )

    @api.depends("company_id")
    def _compute_pico_webhook_url(self):
        for connection in self:
            connection.pico_webhook_url = connection.company_id._pico_webhook_url()

    def _pico_company(self):
        """The company to act for, as superuser; PICO Managers of it only.

        Also called on no record (a script's ``execute_kw`` with ``[]``): the
        user's current company.
        """
        check_pico_manager(
            self.env,
            self.env._(
                "Only PICO Managers and Settings administrators may test the "
                "connection, sync operations or register webhooks."
            ),
        )
        company = self.company_id if self else self.env.company
        company.ensure_one()
        if not self.env.su and company not in self.env.user.company_ids:
            raise AccessError(self.env._("You do not work for %s.", company.name))
        return company.sudo()

    def action_pico_test_connection(self):
        return self._pico_test_connection(self._pico_company())

    def action_pico_sync_operations(self):
        return self._pico_sync_operations(self._pico_company())

    def action_pico_register_webhooks(self):
        return self._pico_register_webhooks(self._pico_company())

    # ------------------------------------- the actions, for a company (sudo)

    @api.model
    def _pico_test_connection(self, company):
        """Reach PICO, then check every document the addon sends against its schema
        and whether PICO accepts the BoM transfer (which is disabled when not)."""
        try:
            with company._pico_client() as client:
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
        transfer_problems = company._pico_check_bom_transfer()
        if transfer_problems and company.pico_allow_bom_transfer:
            message = "\n".join(
                [message, self.env._("BoM transfer is disabled:"), *transfer_problems]
            )
            kind = "warning"
        return self._pico_notify(title, message, kind)

    @api.model
    def _pico_schema_problems(self, client):
        """Validate our documents against the live schema, where PICO introspects."""
        from graphql import build_client_schema, get_introspection_query

        try:
            data = client.execute(get_introspection_query(descriptions=False))
        except PicoError:
            return {}  # introspection disabled: nothing more to check
        return documents.schema_problems(build_client_schema(data))

    @api.model
    def _pico_sync_operations(self, company):
        Operation = self.env["pico.operation"].sudo().with_company(company)
        try:
            # a concurrent sync (another node) conflicts: Odoo runs the click again
            with expected_conflicts():
                created, updated = Operation._pico_sync_company(company)
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

    @api.model
    def _pico_register_webhooks(self, company):
        try:
            company._pico_register_webhooks()
        except PicoError as exc:
            return self._pico_notify(
                self.env._("PICO webhook registration failed"), str(exc), "danger"
            )
        return self._pico_notify(
            self.env._("PICO webhooks registered"),
            self.env._("PICO will call %s.", company._pico_webhook_url()),
            "success",
        )

    @api.model
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
