from odoo import fields, models

from ..services import bom_transfer
from ..services.client import PicoError


class ResCompany(models.Model):
    """BoM transfer settings: allowed by a person, checked against PICO's schema."""

    _inherit = "res.company"

    pico_allow_bom_transfer = fields.Boolean(
        string="Allow BoM Transfer to PICO",
        help="PICO's Work Instructions API is alpha and overwrites edits made in "
        "PICO's UI: PICO managers may send BoMs only when this is set.",
    )
    pico_bom_transfer_check = fields.Selection(
        [("unchecked", "Not checked"), ("ok", "Compatible"), ("blocked", "Differs")],
        string="BoM Transfer Check",
        default="unchecked",
        readonly=True,
        copy=False,
        help="Set by Test connection: whether PICO's live schema accepts our "
        "Work Instructions mutations.",
    )
    pico_bom_transfer_problem = fields.Text(
        string="BoM Transfer Problem", readonly=True, copy=False
    )

    def _pico_check_bom_transfer(self):
        """Introspect PICO and store whether the BoM transfer mutations fit."""
        self.ensure_one()
        from graphql import build_client_schema, get_introspection_query

        client = self._pico_client()
        try:
            data = client.execute(get_introspection_query(descriptions=False))
            problems = bom_transfer.schema_problems(build_client_schema(data))
        except PicoError as exc:
            problems = [
                self.env._(
                    "PICO's schema could not be read (%s): nothing is guessed.", exc
                )
            ]
        finally:
            client.close()
        self.sudo().write(
            {
                "pico_bom_transfer_check": "blocked" if problems else "ok",
                "pico_bom_transfer_problem": "\n".join(problems) or False,
            }
        )
        return problems

    def _pico_bom_transfer_blocker(self):
        """Why this company cannot send BoMs to PICO now, or False."""
        self.ensure_one()
        if not self.pico_enabled:
            return self.env._("PICO is not enabled for %s.", self.name)
        if not self.pico_allow_bom_transfer:
            return self.env._(
                "BoM transfer to PICO is not allowed in the settings of %s.", self.name
            )
        if self.pico_bom_transfer_check == "unchecked":
            return self.env._(
                "Run Test connection in the PICO settings first: it checks that "
                "PICO accepts the BoM transfer."
            )
        if self.pico_bom_transfer_check == "blocked":
            return self.env._(
                "PICO's live schema differs from the one this connector knows, so "
                "BoM transfer is disabled:\n%s",
                self.pico_bom_transfer_problem,
            )
        return False

    def _pico_wi_prefix(self):
        self.ensure_one()
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")
        return bom_transfer.id_prefix(uuid, self.id)
