import re
import secrets
from urllib.parse import quote

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import consteq

from ..services import bom_transfer, documents
from ..services.client import PicoClient, PicoError
from ..services.conflicts import expected_conflicts

WEBHOOK_ROUTE = "/pico_mes/webhook"
ORDER_REF_SEPARATOR = ":"
ORDER_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,24}")
SECRET_HEADER = "X-Pico-Webhook-Secret"
WEBHOOK_STREAMS = {
    "completions": documents.COMPLETION_FRAGMENT,
    "operations": documents.OPERATION_FRAGMENT,
}


class ResCompany(models.Model):
    _inherit = "res.company"

    pico_enabled = fields.Boolean(string="PICO Enabled")
    pico_api_url = fields.Char(
        string="PICO API URL",
        help="The GraphQL endpoint of your PICO instance, "
        "e.g. https://acme.picomes.com/graph/v2",
    )
    pico_api_token = fields.Char(
        string="PICO API Token",
        groups="base.group_system",
        copy=False,
        help="Sent as header x-pico-api-org; issued by PICO support.",
    )
    pico_webhook_secret = fields.Char(
        string="PICO Webhook Secret",
        groups="base.group_system",
        copy=False,
        help="PICO sends it back in a header on every webhook delivery.",
    )
    pico_webhook_secret_previous = fields.Char(
        string="Previous PICO Webhook Secret",
        groups="base.group_system",
        copy=False,
        help="Still accepted after a rotation, until PICO has accepted the new one.",
    )
    pico_outbound_waiting_count = fields.Integer(
        string="PICO Messages Waiting",
        compute="_compute_pico_outbound_waiting_count",
        help="Messages to PICO not sent yet (waiting while PICO is disabled).",
    )
    pico_public_url = fields.Char(
        string="Public URL for PICO",
        help="The address PICO uses to reach this Odoo when it differs from "
        "web.base.url, e.g. behind a reverse proxy.",
    )
    pico_operations_synced_until = fields.Datetime(
        copy=False,
        readonly=True,
        help="Newest updatedAt seen from PICO; the next sync asks only for newer.",
    )

    def _compute_pico_outbound_waiting_count(self):
        counts = dict(
            self.env["pico.message"]
            .sudo()
            ._read_group(
                [
                    ("company_id", "in", self.ids),
                    ("direction", "=", "out"),
                    ("state", "=", "pending"),
                ],
                ["company_id"],
                ["__count"],
            )
        )
        for company in self:
            company.pico_outbound_waiting_count = counts.get(company, 0)

    # ------------------------------------------------- order reference prefix

    pico_order_prefix = fields.Char(
        string="PICO Order Prefix",
        copy=False,
        help="Starts every order reference this company sends to PICO, so that "
        "companies and databases sharing one PICO instance never collide.",
    )

    _sql_constraints = [
        (
            "pico_order_prefix_uniq",
            "unique(pico_order_prefix)",
            "Each company needs its own PICO order prefix.",
        )
    ]

    def init(self):
        """Existing companies get their default prefix at install and upgrade."""
        res = super().init()
        self.env.cr.execute(
            "SELECT id FROM res_company WHERE pico_order_prefix IS NULL"
        )
        for (company_id,) in self.env.cr.fetchall():
            self.env.cr.execute(
                "UPDATE res_company SET pico_order_prefix = %s WHERE id = %s",
                (self._pico_default_order_prefix(company_id), company_id),
            )
        return res

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        for company in companies.filtered(lambda c: not c.pico_order_prefix):
            company.pico_order_prefix = self._pico_default_order_prefix(company.id)
        return companies

    @api.model
    def _pico_default_order_prefix(self, company_id):
        """Database identity and company id: unique across databases and companies."""
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")
        return f"{uuid.replace('-', '')[:8] or 'odoo'}-{company_id}"

    @api.constrains("pico_order_prefix")
    def _check_pico_order_prefix(self):
        for company in self:
            prefix = company.pico_order_prefix
            if prefix and not ORDER_PREFIX_PATTERN.fullmatch(prefix):
                raise ValidationError(
                    self.env._(
                        "The PICO order prefix %(prefix)s must be 1 to 24 letters, "
                        "digits, '.', '-' or '_'.",
                        prefix=company.pico_order_prefix,
                    )
                )

    def _pico_order_ref(self, name):
        """The externalOrderId of this company's order ``name``."""
        self.ensure_one()
        prefix = self.pico_order_prefix or self._pico_default_order_prefix(self.id)
        return f"{prefix}{ORDER_REF_SEPARATOR}{name}"

    # ------------------------------------------------------------------ API

    def _pico_client(self):
        """A PicoClient; use it as ``with company._pico_client() as client:``."""
        self.ensure_one()
        company = self.sudo()
        return PicoClient(company.pico_api_url, company.pico_api_token)

    def _pico_webhook_secret(self):
        """The company's webhook secret, generated on first use."""
        self.ensure_one()
        company = self.sudo()
        if not company.pico_webhook_secret:
            company.pico_webhook_secret = secrets.token_urlsafe(32)
        return company.pico_webhook_secret

    def _pico_rotate_webhook_secret(self):
        """A new secret; the old one stays valid until PICO has accepted the new
        one (``_pico_register_webhooks``), so that no delivery in between is lost."""
        for company in self.sudo():
            company.write(
                {
                    "pico_webhook_secret_previous": company.pico_webhook_secret_previous
                    or company.pico_webhook_secret,
                    "pico_webhook_secret": secrets.token_urlsafe(32),
                }
            )

    # ------------------------------------------------------------- webhooks

    def _pico_webhook_url(self):
        self.ensure_one()
        base = self.pico_public_url or self.env["ir.config_parameter"].sudo().get_param(
            "web.base.url", ""
        )
        return f"{base.rstrip('/')}{WEBHOOK_ROUTE}"

    def _pico_subscription_id(self, stream):
        """Deterministic per database, company and stream: re-registering replaces."""
        self.ensure_one()
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")
        return f"odoo-{uuid[:13]}-c{self.id}-{stream}-v1"

    def _pico_register_webhooks(self):
        """Subscribe this company's webhook to completions and operation changes.

        Runs at once (an administrator's click) and logs each call as a message;
        the secret travels to PICO only, never into the log.
        """
        self.ensure_one()
        Message = self.env["pico.message"].sudo()
        with self._pico_client() as client:
            for stream, fragment in WEBHOOK_STREAMS.items():
                subscription_input = {
                    "subscriptionID": self._pico_subscription_id(stream),
                    "responseFragment": fragment,
                    "webhookUrl": self._pico_webhook_url(),
                    "webhookHeaders": {SECRET_HEADER: self._pico_webhook_secret()},
                }
                message = Message.create(
                    {
                        "direction": "out",
                        "kind": "webhook_subscribe",
                        "company_id": self.id,
                        "payload": Message._dump(
                            dict(
                                subscription_input,
                                webhookHeaders={SECRET_HEADER: "***"},
                            )
                        ),
                    }
                )
                try:
                    data = client.execute(
                        documents.WEBHOOK_SUBSCRIBE, {"input": subscription_input}
                    )
                except PicoError as exc:
                    message._set_failed(str(exc))
                    raise
                message._set_done(data)
        self._pico_forget_previous_secret()

    def _pico_forget_previous_secret(self):
        """PICO has the new secret. Written only when there is one to forget:
        two nodes registering at the same moment then never write the company
        (a pending one is an expected conflict, and Odoo runs the click again)."""
        company = self.sudo()
        if company.pico_webhook_secret_previous:
            with expected_conflicts():
                company.pico_webhook_secret_previous = False
                company.flush_recordset(["pico_webhook_secret_previous"])

    @api.model
    def _pico_company_for_secret(self, secret):
        """The PICO-enabled company owning this webhook secret (constant time)."""
        if not secret:
            return self.browse()
        for company in self.sudo().search([("pico_enabled", "=", True)]):
            for known in (
                company.pico_webhook_secret,
                company.pico_webhook_secret_previous,
            ):
                if known and consteq(known, secret):
                    return company
        return self.browse()

    # ------------------------------------------------------- PICO web links

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

    # --------------------------------------------------------- BoM transfer
    # PICO's Work Instructions API: allowed by a person, checked against PICO's schema.

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
