import json
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import compat
from ..exceptions import (  # noqa: F401 -- PicoProcessingError: for old imports
    PicoError,
    PicoProcessingError,
    PicoStateError,
)

_logger = logging.getLogger(__name__)

DISPATCH_CRON = "pico_mes.ir_cron_pico_dispatch"
PROCESS_CRON = "pico_mes.ir_cron_pico_process"
ALIASES_PER_REQUEST = 50
MANAGER_GROUP = "pico_mes.group_pico_manager"
DONE_RETENTION_DAYS = 90
PROBLEM_RETENTION_DAYS = 180
UNIT_LINKS = {  # message kind: the pico.unit field that names such messages
    "order_save": "order_message_id",
    "order_cancel": "cancel_message_id",
}
UNIT_LINKS_O2M = {  # that field: its inverse on pico.message
    "order_message_id": "ordered_unit_ids",
    "cancel_message_id": "cancelled_unit_ids",
}


class PicoMessage(models.Model):
    """The durable log of every exchange with PICO: one row per request or event.

    The record only: its fields and its named transitions (each checks the state
    it starts from). The engines that move messages are ``pico.outbox``
    (dispatch), ``pico.inbox`` (processing) and ``pico.reconciliation``.
    """

    _name = "pico.message"
    _description = "PICO Message"
    _order = "id desc"

    direction = fields.Selection(
        [("out", "To PICO"), ("in", "From PICO")], required=True, readonly=True
    )
    kind = fields.Selection(
        [
            ("order_save", "Order units"),
            ("order_cancel", "Cancel units"),
            ("webhook_subscribe", "Register webhook"),
            ("completion", "Unit completed"),
            ("operation", "Operation changed"),
            ("bom_transfer", "Send BoM to PICO"),
        ],
        required=True,
        readonly=True,
    )
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("unmatched", "Unmatched"),
            ("discarded", "Discarded"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    production_id = fields.Many2one(
        "mrp.production", string="Manufacturing Order", readonly=True, index=True
    )
    # A BoM transfer queues one message per Work Instructions call. They share
    # an order_ref per BoM, so the dispatcher sends them in creation order
    # (stations, processes, then the product that names the processes) and holds
    # the rest back while one waits for a retry or has failed.
    bom_id = fields.Many2one(
        "mrp.bom",
        string="Bill of Materials",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
    # A unit names the message that orders it in PICO and the one that cancels
    # it: the unit's row is written once, when it is created or cancelled.
    ordered_unit_ids = fields.One2many(
        "pico.unit", "order_message_id", string="Ordered Units", readonly=True
    )
    cancelled_unit_ids = fields.One2many(
        "pico.unit", "cancel_message_id", string="Cancelled Units", readonly=True
    )
    unit_ids = fields.Many2many(
        "pico.unit",
        string="Units",
        compute="_compute_unit_ids",
        inverse="_inverse_unit_ids",
        search="_search_unit_ids",
        help="The units this message orders or cancels in PICO.",
    )
    order_ref = fields.Char(string="PICO Order Reference", readonly=True, index=True)
    dedup_key = fields.Char(readonly=True, copy=False)
    payload = fields.Text(readonly=True)
    answer = fields.Text(string="PICO's Answer", readonly=True)
    error = fields.Text(readonly=True)
    discard_reason = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(
        default=fields.Datetime.now, readonly=True, index=True
    )
    retrying_since = fields.Datetime(
        readonly=True, help="First retryable failure of the current run of retries."
    )
    done_at = fields.Datetime(readonly=True)

    _dedup_key_uniq = compat.Constraint(
        "unique(company_id, dedup_key)", "PICO delivered this event already."
    )

    def init(self):
        # the dispatcher's "no earlier open sibling" test, per company and order
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS pico_message_order_queue_idx"
            " ON pico_message (company_id, order_ref, id)"
            " WHERE direction = 'out' AND state IN ('pending', 'failed')"
        )

    @api.depends("ordered_unit_ids", "cancelled_unit_ids")
    def _compute_unit_ids(self):
        for message in self:
            message.unit_ids = message.ordered_unit_ids | message.cancelled_unit_ids

    def _inverse_unit_ids(self):
        for message in self:
            field = UNIT_LINKS.get(message.kind)
            if not field:
                continue
            units, linked = message.unit_ids, message[UNIT_LINKS_O2M[field]]
            (linked - units).sudo().write({field: False})
            (units - linked).sudo().write({field: message.id})

    @api.model
    def _search_unit_ids(self, operator, value):
        return [
            "|",
            ("ordered_unit_ids", operator, value),
            ("cancelled_unit_ids", operator, value),
        ]

    @api.depends("kind", "order_ref")
    def _compute_display_name(self):
        labels = dict(self._fields["kind"].selection)
        for message in self:
            parts = [labels.get(message.kind, message.kind), message.order_ref]
            message.display_name = " ".join(filter(None, parts))

    # ------------------------------------------------------------- queueing

    @api.model
    def _queue(self, vals_list):
        """Create outbound rows, at most ALIASES_PER_REQUEST inputs each; the
        dispatcher is woken when they are committed."""
        parts = [part for vals in vals_list for part in self._split_inputs(vals)]
        messages = self.create(
            [
                {
                    **{k: v for k, v in part.items() if k != "unit_ids"},
                    "direction": "out",
                    "state": "pending",
                }
                for part in parts
            ]
        )
        for message, part in zip(messages, parts, strict=True):
            message._link_units(self.env["pico.unit"].browse(self._unit_ids_of(part)))
        copied = messages.filtered(
            lambda m: m.order_ref and not m.company_id._pico_owns_order_ref(m.order_ref)
        )
        copied._set_withheld(
            self.env._(
                "An order of the database this copy was made from (another order "
                "prefix): never sent from this copy."
            )
        )
        if messages - copied:
            self._wake_dispatcher_at_commit()
        return messages

    def _link_units(self, units):
        """Name this order message on ``units`` (``unit_ids``)."""
        self.ensure_one()
        field = UNIT_LINKS.get(self.kind)
        if field and units:
            units.sudo().write({field: self.id})

    @api.model
    def _split_inputs(self, vals):
        """One message per ALIASES_PER_REQUEST inputs, each with its own units, so
        that a 2,000-unit MO goes out in requests of bounded size."""
        inputs = json.loads(vals.get("payload") or "{}").get("inputs", [])
        unit_ids = self._unit_ids_of(vals)
        if len(inputs) <= ALIASES_PER_REQUEST or len(unit_ids) != len(inputs):
            return [vals]
        return [
            dict(
                vals,
                payload=self._dump({"inputs": inputs[i : i + ALIASES_PER_REQUEST]}),
                unit_ids=[(6, 0, unit_ids[i : i + ALIASES_PER_REQUEST])],
            )
            for i in range(0, len(inputs), ALIASES_PER_REQUEST)
        ]

    @api.model
    def _unit_ids_of(self, vals):
        commands = vals.get("unit_ids") or []
        if len(commands) == 1 and commands[0][0] == 6:
            return list(commands[0][2])
        return []

    @api.model
    def _wake_dispatcher_at_commit(self):
        """One cron trigger per transaction, however many orders it confirms."""
        precommit = self.env.cr.precommit
        if not precommit.data.get("pico_mes.wake_dispatcher"):
            precommit.data["pico_mes.wake_dispatcher"] = True
            cron_id = self.env["ir.model.data"]._xmlid_to_res_id(DISPATCH_CRON)
            precommit.add(self.env["ir.cron"].sudo().browse(cron_id)._trigger)

    @api.model
    def _dump(self, payload):
        return json.dumps(payload, sort_keys=True)

    def _payload(self):
        return json.loads(self.payload or "{}")

    def _inputs(self):
        return self._payload().get("inputs", [])

    # ---------------------------------------------------------- transitions

    def _check_state(self, allowed, transition):
        wrong = self.filtered(lambda m: m.state not in allowed)
        if wrong:
            raise PicoStateError(
                f"pico.message {wrong.ids}: cannot {transition} from state "
                f"{sorted(set(wrong.mapped('state')))}"
            )

    def _set_done(self, answer=None, production=None):
        """Delivered, or applied: saved units are now sent."""
        self._check_state(("pending",), "set done")
        values = {
            "state": "done",
            "error": False,
            "retrying_since": False,
            "done_at": fields.Datetime.now(),
        }
        if answer is not None:
            values["answer"] = json.dumps(answer, indent=1, sort_keys=True)
        if production is not None:
            values["production_id"] = production.id
        self.write(values)
        saves = self.filtered(lambda m: m.direction == "out" and m.kind == "order_save")
        saves.unit_ids.filtered(lambda u: u.state == "queued")._set_sent()

    def _set_unmatched(self, production=None):
        self._check_state(("pending",), "set unmatched")
        values = {"state": "unmatched", "error": False}
        if production is not None:
            values["production_id"] = production.id
        values["done_at"] = fields.Datetime.now()
        self.write(values)

    def _postpone(self, error, at, count_attempt=True):
        """Try again at ``at`` (a back-off, or at once when it was not at fault)."""
        self._check_state(("pending",), "postpone")
        now = fields.Datetime.now()
        for message in self:
            message.write(
                {
                    "attempts": message.attempts + (1 if count_attempt else 0),
                    "error": str(error),
                    "next_attempt_at": at,
                    "retrying_since": (message.retrying_since or now)
                    if count_attempt
                    else message.retrying_since,
                }
            )

    def _set_failed(self, error):
        """Permanent failure: the message, its units and its MO show it, with a task."""
        self._check_state(("pending",), "set failed")
        for message in self:
            message.write(
                {
                    "state": "failed",
                    "error": str(error),
                    "attempts": message.attempts + (message.direction == "out"),
                    "retrying_since": False,
                }
            )
            if message.direction == "out":
                message.unit_ids.filtered(lambda u: u.state == "queued")._set_failed()
            if message.production_id:
                message.production_id._pico_flag_error(str(error))

    def _set_pending(self):
        """Retry: back in the queue, from a clean slate."""
        self._check_state(("failed", "unmatched"), "retry")
        self.write(
            {
                "state": "pending",
                "attempts": 0,
                "retrying_since": False,
                "next_attempt_at": fields.Datetime.now(),
            }
        )
        self.filtered(lambda m: m.direction == "out").unit_ids.filtered(
            lambda u: u.state == "failed"
        )._set_queued()

    def _set_discarded(self, reason):
        """Give up on a failed message: it no longer holds back its order."""
        self._check_state(("failed", "unmatched"), "discard")
        self.write(
            {
                "state": "discarded",
                "discard_reason": reason,
                "done_at": fields.Datetime.now(),
            }
        )

    def _set_withheld(self, reason):
        """Never to be sent from this database: made under the order prefix of
        the database it was copied from. Given up, with the reason."""
        self._check_state(("pending", "failed"), "withhold")
        self.write(
            {
                "state": "discarded",
                "discard_reason": reason,
                "done_at": fields.Datetime.now(),
            }
        )

    # backwards-compatible names
    def _fail(self, error):
        self._set_failed(error)

    def _delivered(self, answers):
        for message in self:
            message._set_done(answers.get(message.id))

    # --------------------------------------------------------------- engines

    @api.model
    def _cron_dispatch(self):
        return self.env["pico.outbox"]._cron_dispatch()

    @api.model
    def _receive(self, company, events):
        return self.env["pico.inbox"]._receive(company, events)

    def _process(self):
        return self.env["pico.inbox"]._process(self)

    @api.model
    def _cron_process_inbound(self):
        return self.env["pico.inbox"]._cron_process()

    @api.model
    def _cron_reconcile(self):
        return self.env["pico.reconciliation"]._cron_reconcile()

    # --------------------------------------------------------------- actions

    def _check_manager(self):
        if not (self.env.su or self.env.user.has_group(MANAGER_GROUP)):
            raise AccessError(
                self.env._("Only a PICO Manager can retry or discard PICO messages.")
            )

    def action_retry(self):
        """Send or process failed messages again; the MO records who retried."""
        self._check_manager()
        to_retry = self.sudo().filtered(lambda m: m.state in ("failed", "unmatched"))
        registrations = to_retry.filtered(lambda m: m.kind == "webhook_subscribe")
        to_retry -= registrations
        to_retry._set_pending()
        to_retry._record_on_productions(
            self.env._("%s retried PICO messages:", self.env.user.name)
        )
        if to_retry.filtered(lambda m: m.direction == "out"):
            self.env.ref(DISPATCH_CRON).sudo()._trigger()
        if to_retry.filtered(lambda m: m.direction == "in"):
            self.env.ref(PROCESS_CRON).sudo()._trigger()
        registrations._register_again()
        return True

    def _register_again(self):
        """A registration is never queued: it runs again now, as new messages."""
        for company in self.company_id:
            try:
                company._pico_register_webhooks()
            except PicoError as exc:
                _logger.warning("PICO webhook registration failed again: %s", exc)
                continue
            self.filtered(lambda m, c=company: m.company_id == c)._set_discarded(
                self.env._("Registered again.")
            )

    def action_discard(self, reason=None):
        """Give up on failed messages, with a reason; their orders move on."""
        self._check_manager()
        if not reason:
            return {
                "type": "ir.actions.act_window",
                "res_model": "pico.message.discard",
                "view_mode": "form",
                "target": "new",
                "context": {"active_ids": self.ids},
            }
        to_discard = self.sudo().filtered(lambda m: m.state in ("failed", "unmatched"))
        if not to_discard:
            raise UserError(self.env._("Only failed messages can be discarded."))
        to_discard._set_discarded(reason)
        to_discard._record_on_productions(
            self.env._(
                "%(user)s discarded PICO messages (%(reason)s):",
                user=self.env.user.name,
                reason=reason,
            )
        )
        if to_discard.filtered(lambda m: m.direction == "out"):
            self.env.ref(DISPATCH_CRON).sudo()._trigger()
        return True

    def _record_on_productions(self, note):
        """A chatter line on each MO; its "PICO: action needed" task is marked done
        (kept in the chatter, not deleted) once no failed message is left."""
        for production in self.production_id:
            mine = self.filtered(lambda m, p=production: m.production_id == p)
            production.message_post(
                body=self.env._(
                    "%(note)s %(messages)s",
                    note=note,
                    messages=", ".join(mine.mapped("display_name")),
                )
            )
            if not production.pico_message_ids.filtered(lambda m: m.state == "failed"):
                production.sudo().pico_error = False
                production.activity_feedback(
                    ["pico_mes.mail_activity_pico_attention"], feedback=note
                )

    @api.autovacuum
    def _gc_done_messages(self):
        """Delete settled messages past their retention (days; 0 keeps all):
        done and discarded ones after ``pico_mes.message_retention_days``,
        unmatched ones and failed ones from PICO after the longer
        ``pico_mes.problem_retention_days``. A failed message to PICO is kept:
        it holds its order's later messages back until a person retries or
        discards it."""
        self._gc_messages(
            "pico_mes.message_retention_days",
            DONE_RETENTION_DAYS,
            [("state", "in", ("done", "discarded"))],
            "done_at",
        )
        self._gc_messages(
            "pico_mes.problem_retention_days",
            PROBLEM_RETENTION_DAYS,
            [("state", "=", "unmatched")],
            "done_at",
        )
        self._gc_messages(
            "pico_mes.problem_retention_days",
            PROBLEM_RETENTION_DAYS,
            [("state", "=", "failed"), ("direction", "=", "in")],
            "write_date",
        )

    @api.model
    def _gc_messages(self, parameter, default_days, domain, date_field):
        days = int(
            self.env["ir.config_parameter"].sudo().get_param(parameter, default_days)
        )
        if days > 0:
            limit = fields.Datetime.now() - timedelta(days=days)
            self.search([*domain, (date_field, "<", limit)]).unlink()

    @api.model
    def _commit_progress(self):
        """Make each step durable in production; tests keep their transaction."""
        if not compat.testing():
            self.env.cr.commit()  # pylint: disable=invalid-commit
