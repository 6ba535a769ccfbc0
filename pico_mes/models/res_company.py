import re
import secrets
from urllib.parse import quote
from uuid import uuid4

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import consteq

from .. import compat
from ..access import check_engine_fields
from ..exceptions import PicoCopyHeld
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
# What the connector found out, not settings: Test connection and the sync set
# them; and the company's PICO identity, which only confirming a copy changes.
ENGINE_FIELDS = frozenset(
    {
        "pico_bom_transfer_check",
        "pico_bom_transfer_problem",
        "pico_operations_synced_until",
        "pico_identity",
        "pico_identity_database_uuid",
    }
)
NEUTRALIZED = "neutralized"  # pico_identity_database_uuid of a neutralized copy
OPEN_UNIT_STATES = ("queued", "sent", "in_progress", "failed")  # pico_unit.OPEN_STATES
# Set in the context by the confirmation of a copy's prefix only: an object, so
# that no RPC call can pass it.
_CONFIRMING_COPY = object()


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

    pico_serial_units_per_mo = fields.Integer(
        string="PICO Serial Units per MO",
        default=100,
        help="A PICO order of more serial units (a serial product or serial "
        "components) is confirmed as several manufacturing orders of at most "
        "this many units, so that each unit costs the same however large the "
        "order. 0: never split.",
    )

    # ------------------------------------------------- order reference prefix

    pico_order_prefix = fields.Char(
        string="PICO Order Prefix",
        copy=False,
        help="Starts every order reference this company sends to PICO, so that "
        "companies and databases sharing one PICO instance never collide.",
    )

    _pico_order_prefix_uniq = compat.Constraint(
        "unique(pico_order_prefix)", "Each company needs its own PICO order prefix."
    )
    _pico_serial_units_per_mo_not_negative = compat.Constraint(
        "CHECK(pico_serial_units_per_mo >= 0)",
        "The PICO serial units per manufacturing order cannot be negative.",
    )

    def init(self):
        """Existing companies get their PICO identity (the database's uuid, so
        that the ids they already use stay the same) and their default prefix,
        at install and upgrade."""
        res = super().init()
        database_uuid = self._pico_database_uuid()
        for column in ("pico_identity", "pico_identity_database_uuid"):
            self.env.cr.execute(
                f"UPDATE res_company SET {column} = %s WHERE {column} IS NULL",  # noqa: S608
                (database_uuid,),
            )
        self.env.cr.execute(
            "SELECT id, pico_identity FROM res_company WHERE pico_order_prefix IS NULL"
        )
        for company_id, identity in self.env.cr.fetchall():
            self.env.cr.execute(
                "UPDATE res_company SET pico_order_prefix = %s WHERE id = %s",
                (_prefix_from(identity, company_id), company_id),
            )
        return res

    @api.model_create_multi
    def create(self, vals_list):
        """A new company gets an identity of its own: even in a copy that keeps
        the original's database.uuid, no id it sends can be one of the original's."""
        database_uuid = self._pico_database_uuid()
        for vals in vals_list:
            check_engine_fields(self, ENGINE_FIELDS, vals)
            vals.setdefault("pico_identity", uuid4().hex)
            vals.setdefault("pico_identity_database_uuid", database_uuid)
        companies = super().create(vals_list)
        for company in companies.filtered(lambda c: not c.pico_order_prefix):
            company.pico_order_prefix = self._pico_default_order_prefix(company.id)
        return companies

    def write(self, vals):
        check_engine_fields(self, ENGINE_FIELDS, vals)
        if "pico_order_prefix" in vals:
            self._pico_check_prefix_change(vals["pico_order_prefix"])
        return super().write(vals)

    @api.model
    def _pico_database_uuid(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")

    @api.model
    def _pico_default_order_prefix(self, company_id):
        """The company's identity and id: unique across databases and companies."""
        identity = self.browse(company_id).sudo().pico_identity
        return _prefix_from(identity or self._pico_database_uuid(), company_id)

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

    def _pico_owns_order_ref(self, ref):
        """Whether ``ref`` names one of this company's PICO orders: it carries
        the company's prefix, or no prefix at all (an order made before
        prefixes existed). Another prefix is another company's or database's."""
        self.ensure_one()
        prefix, separator, _name = ref.partition(ORDER_REF_SEPARATOR)
        return not separator or prefix == self.pico_order_prefix

    def _pico_check_prefix_change(self, prefix):
        """A prefix changes only while nothing is open under it (a unit to
        build, a message to send or to process); a copy's, only by confirming."""
        if self.env.context.get("pico_confirming_copy") is _CONFIRMING_COPY:
            return
        for company in self:
            old = company.pico_order_prefix
            if not old or old == prefix:
                continue
            if company._pico_copy_hold():
                raise UserError(
                    self.env._(
                        "PICO is held for %(company)s because this database is a "
                        "copy. Confirm a new order prefix in the PICO settings.",
                        company=company.name,
                    )
                )
            units, messages, example = company._pico_open_under(old)
            if units or messages:
                raise UserError(
                    self.env._(
                        "The PICO order prefix of %(company)s can change only while "
                        "nothing is open under it: %(units)s units and %(messages)s "
                        "messages are open under %(prefix)s (e.g. %(example)s). "
                        "Finish or cancel those orders, and retry or discard the "
                        "messages, first.",
                        company=company.name,
                        units=units,
                        messages=messages,
                        prefix=old,
                        example=example,
                    )
                )

    def _pico_open_under(self, prefix):
        """(open units, open messages, one of their references) under ``prefix``."""
        self.ensure_one()
        self.env["pico.unit"].flush_model()
        self.env["pico.message"].flush_model()
        head = f"{prefix}{ORDER_REF_SEPARATOR}"
        self.env.cr.execute(
            """SELECT count(*), min(external_order_id) FROM pico_unit
                WHERE company_id = %s AND state IN %s
                  AND left(external_order_id, %s) = %s""",
            (self.id, OPEN_UNIT_STATES, len(head), head),
        )
        units, unit_ref = self.env.cr.fetchone()
        self.env.cr.execute(
            """SELECT count(*), min(order_ref) FROM pico_message
                WHERE company_id = %s AND state IN ('pending', 'failed')
                  AND left(order_ref, %s) = %s""",
            (self.id, len(head), head),
        )
        messages, message_ref = self.env.cr.fetchone()
        return units, messages, unit_ref or message_ref

    def _pico_order_ref(self, name):
        """The externalOrderId of this company's order ``name``."""
        self.ensure_one()
        prefix = self.pico_order_prefix or self._pico_default_order_prefix(self.id)
        return f"{prefix}{ORDER_REF_SEPARATOR}{name}"

    # ------------------------------------------------------------------ API

    def _pico_client(self):
        """A PicoClient; use it as ``with company._pico_client() as client:``.
        Raises PicoCopyHeld in a copy of the database not confirmed yet."""
        self.ensure_one()
        hold = self._pico_copy_hold()
        if hold:
            raise PicoCopyHeld(hold)
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
        """Deterministic per company identity (a database), company and stream:
        re-registering replaces."""
        self.ensure_one()
        identity = self.sudo().pico_identity or self._pico_database_uuid()
        return f"odoo-{identity[:13]}-c{self.id}-{stream}-v1"

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
        identity = self.sudo().pico_identity or self._pico_database_uuid()
        return bom_transfer.id_prefix(identity, self.id)

    # ----------------------------------------------------- copies of the database
    # Odoo gives a duplicated database, or one restored "as a copy", a new
    # database.uuid; neutralize.sql marks a neutralized one. Such a copy still
    # holds production's prefix, ids and open orders: it calls PICO for nothing
    # until an administrator confirms a new prefix, which gives the company a
    # new identity (subscription and BoM-transfer ids) and a new webhook secret.

    pico_identity = fields.Char(
        string="PICO Identity",
        copy=False,
        readonly=True,
        help="Seed of the ids this company's PICO subscriptions and BoM transfers "
        "use, and of its default order prefix.",
    )
    pico_identity_database_uuid = fields.Char(
        string="Database of the PICO Identity",
        copy=False,
        readonly=True,
        help="database.uuid when this company's order prefix and PICO ids were "
        "made; another value means this database is a copy, and PICO is held.",
    )
    pico_copy_hold_reason = fields.Text(
        string="PICO Held", compute="_compute_pico_copy_hold_reason"
    )

    def _compute_pico_copy_hold_reason(self):
        for company in self:
            company.pico_copy_hold_reason = company._pico_copy_hold()

    def _pico_copy_hold(self):
        """Why this company calls PICO for nothing from this database, or False."""
        self.ensure_one()
        made_in = self.sudo().pico_identity_database_uuid
        if not made_in or made_in == self._pico_database_uuid():
            return False
        if made_in == NEUTRALIZED:
            return self.env._(
                "This database was neutralized: it is a copy for tests or staging. "
                "Nothing is sent to PICO for %(company)s under the order prefix and "
                "ids of the database it was copied from until you confirm a new "
                "order prefix in the PICO settings.",
                company=self.name,
            )
        return self.env._(
            "This database is a copy: its database uuid is no longer %(uuid)s, the "
            "one PICO was set up under. Nothing is sent to PICO for %(company)s "
            "under the order prefix and ids of the database it was copied from "
            "until you confirm a new order prefix in the PICO settings. (If this is "
            "that database, moved, set the system parameter database.uuid back to "
            "%(uuid)s instead.)",
            uuid=made_in,
            company=self.name,
        )

    @api.model
    def _pico_live_companies(self):
        """The PICO-enabled companies that may call PICO from this database."""
        companies = self.sudo().search([("pico_enabled", "=", True)])
        return companies.filtered(lambda c: not c._pico_copy_hold())

    def _pico_proposed_prefix(self):
        """A new prefix for a copy: from its new database uuid, else random."""
        self.ensure_one()
        proposed = _prefix_from(self._pico_database_uuid(), self.id)
        if proposed == self.pico_order_prefix:  # a neutralized copy: same uuid
            proposed = _prefix_from(uuid4().hex, self.id)
        return proposed

    def _pico_confirm_new_prefix(self, prefix):
        """An administrator's confirmation, in a copy: the company takes
        ``prefix``, a new identity and a new webhook secret, and what was queued
        under the original's prefix is never sent. Returns the messages withheld."""
        self.ensure_one()
        if not (self.env.su or self.env.user.has_group("base.group_system")):
            raise AccessError(
                self.env._(
                    "Only an administrator confirms the PICO order prefix of a "
                    "copied database."
                )
            )
        if not self._pico_copy_hold():
            raise UserError(
                self.env._(
                    "PICO is not held for %(company)s: change its order prefix in "
                    "the settings.",
                    company=self.name,
                )
            )
        prefix = (prefix or "").strip()
        if prefix == self.pico_order_prefix:
            raise UserError(
                self.env._(
                    "%(prefix)s is the order prefix of the production database this "
                    "one was copied from: choose another one.",
                    prefix=prefix,
                )
            )
        old_prefix = self.pico_order_prefix
        self.sudo().with_context(pico_confirming_copy=_CONFIRMING_COPY).write(
            {
                "pico_order_prefix": prefix,
                "pico_identity": uuid4().hex,
                "pico_identity_database_uuid": self._pico_database_uuid(),
                "pico_webhook_secret": secrets.token_urlsafe(32),
                "pico_webhook_secret_previous": False,
            }
        )
        held = (
            self.env["pico.message"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.id),
                    ("direction", "=", "out"),
                    ("state", "in", ("pending", "failed")),
                ]
            )
        )
        held._set_withheld(
            self.env._(
                "Made in the database this copy was made from (order prefix "
                "%(prefix)s): never sent from this copy.",
                prefix=old_prefix,
            )
        )
        return held

    # ------------------------------------------------- neighbours' deliveries

    pico_foreign_count = fields.Integer(
        string="PICO Deliveries Ignored",
        compute="_compute_pico_foreign",
        help="Events PICO delivered in the last 30 days for orders of another "
        "company or database sharing the PICO instance: not ours, ignored.",
    )
    pico_foreign_prefixes = fields.Char(
        string="Their Order Prefixes", compute="_compute_pico_foreign"
    )

    def _compute_pico_foreign(self):
        summary = self.env["pico.foreign.count"]._summary(self)
        for company in self:
            count, prefixes = summary.get(company, (0, []))
            company.pico_foreign_count = count
            company.pico_foreign_prefixes = ", ".join(prefixes) or False


def _prefix_from(identity, company_id):
    return f"{(identity or '').replace('-', '')[:8] or 'odoo'}-{company_id}"
