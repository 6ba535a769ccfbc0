from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import groupby

from ..access import check_engine_fields, check_pico_manager
from ..services import bom_transfer

MAPPING_ACTIVITY = "pico_mes.mail_activity_pico_mapping_needed"
# Set by the connector only: "Sent to PICO" maps the BoM to what the sync finds.
ENGINE_FIELDS = frozenset({"pico_transferred"})


class MrpBom(models.Model):
    """The PICO operation of a BoM; a to-do when PICO cannot name its tracked
    components; and "Send to PICO": the BoM's operations become PICO processes,
    its product a PICO product workflow, its work centers PICO stations (Work
    Instructions API)."""

    _name = "mrp.bom"
    _inherit = ["mrp.bom", "mail.activity.mixin"]

    pico_operation_id = fields.Many2one(
        "pico.operation",
        string="PICO Operation",
        index="btree_not_null",
        copy=False,
        check_company=True,
        help="Overrides the product's PICO operation for orders using this BoM.",
    )
    pico_effective_operation_id = fields.Many2one(
        "pico.operation",
        string="Effective PICO Operation",
        compute="_compute_pico_effective_operation_id",
        help="The BoM's own operation, else its product's in this company.",
    )
    pico_wi_product_id = fields.Char(
        string="PICO Product ID",
        compute="_compute_pico_wi_product_id",
        help="The id this BoM's product has in PICO when sent: derived from the "
        "database, the company and the BoM, so every send updates the same product.",
    )
    pico_transferred = fields.Boolean(
        string="Sent to PICO", copy=False, readonly=True, index=True
    )
    pico_transfer_message_ids = fields.One2many(
        "pico.message", "bom_id", string="PICO Transfer Messages", readonly=True
    )
    pico_transfer_state = fields.Selection(
        [
            ("none", "Never sent"),
            ("pending", "Sending"),
            ("done", "Sent"),
            ("failed", "Failed"),
        ],
        string="PICO Transfer",
        compute="_compute_pico_transfer_state",
    )
    pico_transfer_message_count = fields.Integer(compute="_compute_pico_transfer_state")
    pico_transfer_blocker = fields.Text(compute="_compute_pico_transfer_blocker")
    pico_transfer_offered = fields.Boolean(compute="_compute_pico_transfer_blocker")
    pico_time_warning = fields.Text(
        string="PICO Times Warning",
        compute="_compute_pico_time_warning",
        help="Operations whose fixed duration is far from PICO's median time.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_engine_fields(self, ENGINE_FIELDS, vals)
        return super().create(vals_list)

    def write(self, vals):
        check_engine_fields(self, ENGINE_FIELDS, vals)
        return super().write(vals)

    @api.depends("pico_operation_id", "product_tmpl_id.pico_operation_id", "company_id")
    @api.depends_context("company")
    def _compute_pico_effective_operation_id(self):
        for bom in self:
            bom.pico_effective_operation_id = bom._pico_operation()

    @api.depends_context("company")
    def _compute_pico_time_warning(self):
        for bom in self:
            flagged = bom.operation_ids.filtered("pico_time_flagged")
            bom.pico_time_warning = (
                "\n".join(
                    self.env._(
                        "%(operation)s: Odoo expects %(expected).1f min, PICO's "
                        "median is %(median).1f min (%(variance)+.0f %%).",
                        operation=operation.name,
                        expected=operation.time_cycle,
                        median=operation.pico_median_time,
                        variance=operation.pico_time_variance,
                    )
                    for operation in flagged
                )
                or False
            )

    def _pico_operation(self, company=None):
        """The operation an order of ``company`` built with this BoM asks PICO for.

        A shared BoM naming another company's operation means the same PICO
        operation as synced for ``company``.
        """
        self.ensure_one()
        company = company or self.company_id or self.env.company
        return self._pico_operations_of([(self, company)])[(self, company)]

    @api.model
    def _pico_operations_of(self, pairs):
        """{(BoM, company): operation} for (BoM, company) pairs, in a constant
        number of queries: one search for all BoMs that name another company's
        operation (see ``_pico_operation``)."""
        result, foreign = {}, defaultdict(list)
        for bom, company in pairs:
            operation = bom.pico_operation_id
            if operation and operation.company_id != company:
                foreign[(operation.pico_id, company.id)].append((bom, company))
            else:
                result[(bom, company)] = operation
        if foreign:
            Operation = self.env["pico.operation"]
            found = {
                (operation.pico_id, operation.company_id.id): operation
                for operation in Operation.search(
                    [
                        ("pico_id", "in", list({key[0] for key in foreign})),
                        ("company_id", "in", list({key[1] for key in foreign})),
                    ]
                )
            }
            for key, of_key in foreign.items():
                for pair in of_key:
                    result[pair] = found.get(key, Operation)
        for (bom, company), operation in result.items():
            if not operation:
                template = bom.product_tmpl_id.with_company(company)
                result[(bom, company)] = template.pico_operation_id.with_env(self.env)
        return result

    # ------------------------------------------------------ mapping check

    def _pico_unmapped_tracked_lines(self, operation=None):
        """Tracked component lines no serial attribute or part number maps."""
        self.ensure_one()
        tracked = self.bom_line_ids.filtered(
            lambda line: (
                line.product_id.tracking != "none" and not line.pico_attribute_id
            )
        )
        if not tracked:
            return tracked
        operation = operation if operation is not None else self._pico_operation()
        codes = set(operation.attribute_ids.mapped("external_id"))
        return tracked.filtered(lambda line: line.product_id.default_code not in codes)

    def _pico_check_mapping(self):
        """Schedule (or refresh) "PICO: mapping needed" where lines are unmapped,
        in a constant number of queries for all these BoMs."""
        activity_type = self.env.ref(MAPPING_ACTIVITY, raise_if_not_found=False)
        if not activity_type:
            return
        operations = {
            bom: operation
            for (bom, _company), operation in self._pico_operations_of(
                [(bom, bom.company_id or self.env.company) for bom in self]
            ).items()
            if operation
        }
        if not operations:
            return
        existing = dict(
            groupby(
                self.env["mail.activity"]
                .sudo()
                .search(
                    [
                        ("res_model", "=", self._name),
                        ("res_id", "in", [bom.id for bom in operations]),
                        ("activity_type_id", "=", activity_type.id),
                    ]
                ),
                key=lambda activity: activity.res_id,
            )
        )
        for bom, operation in operations.items():
            lines = bom._pico_unmapped_tracked_lines(operation)
            activities = (
                self.env["mail.activity"].sudo().concat(*existing.get(bom.id, []))
            )
            if not lines:
                if activities:
                    activities.action_feedback(self.env._("Mapped."))
                continue
            note = self.env._(
                "PICO cannot name these tracked components: %(lines)s. Map them to "
                "a serial attribute of %(operation)s, or give them the part number "
                "PICO uses.",
                lines=", ".join(lines.product_id.mapped("display_name")),
                operation=operation.display_name,
            )
            if activities:
                activities.note = note
            else:
                bom.sudo().activity_schedule(
                    MAPPING_ACTIVITY, note=note, user_id=bom._pico_responsible().id
                )

    def _pico_responsible(self):
        return (
            self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user
        )

    @api.model
    def _pico_check_company_mappings(self, company):
        self.search(
            [
                ("company_id", "in", [company.id, False]),
                "|",
                ("pico_operation_id", "!=", False),
                ("product_tmpl_id.pico_operation_id", "!=", False),
            ]
        )._pico_check_mapping()

    # ------------------------------------------------------ BoM transfer

    def _pico_company(self):
        self.ensure_one()
        return self.company_id or self.env.company

    @api.depends("company_id")
    def _compute_pico_wi_product_id(self):
        for bom in self:
            prefix = bom._pico_company()._pico_wi_prefix()
            bom.pico_wi_product_id = (
                bom_transfer.make_id(prefix, "bom", bom.id) if bom.id else False
            )

    def _compute_pico_transfer_state(self):
        """Failed or Sending while any message is; Sent only when every call of
        the latest send was answered true (a discarded one was not sent)."""
        messages = (
            self.env["pico.message"]
            .sudo()
            .search_fetch(
                [("bom_id", "in", self.ids)], ["bom_id", "state", "payload"], order="id"
            )
        )
        by_bom = defaultdict(list)
        for message in messages:
            by_bom[message.bom_id.id].append(message)
        for bom in self:
            of_bom = by_bom.get(bom.id, [])
            states = {m.state for m in of_bom}
            bom.pico_transfer_message_count = len(of_bom)
            if not of_bom:
                bom.pico_transfer_state = "none"
            elif "failed" in states:
                bom.pico_transfer_state = "failed"
            elif "pending" in states:
                bom.pico_transfer_state = "pending"
            elif {m.state for m in self._pico_latest_send(of_bom)} == {"done"}:
                bom.pico_transfer_state = "done"
            else:
                bom.pico_transfer_state = "failed"

    @api.model
    def _pico_latest_send(self, messages):
        """The messages of the latest send, from ``messages`` in id order: each
        send ends with its product call."""
        ends = [
            position
            for position, message in enumerate(messages)
            if message._payload().get("document") == "PicoProductCreate"
        ]
        return messages[ends[-2] + 1 :] if len(ends) > 1 else messages

    @api.depends_context("company")
    @api.depends(
        "company_id.pico_allow_bom_transfer", "company_id.pico_bom_transfer_check"
    )
    def _compute_pico_transfer_blocker(self):
        for bom in self:
            company = bom._pico_company()
            bom.pico_transfer_blocker = company._pico_bom_transfer_blocker()
            bom.pico_transfer_offered = (
                company.pico_enabled and company.pico_allow_bom_transfer
            )

    # --------------------------------------------------- BoM transfer: send

    def action_pico_send(self):
        """Ask for confirmation: PICO's API is alpha and overwrites UI edits."""
        self._pico_check_can_send()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Send to PICO"),
            "res_model": "pico.bom.transfer.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_bom_ids": [(6, 0, self.ids)]},
        }

    def _pico_check_can_send(self):
        check_pico_manager(
            self.env, self.env._("Only PICO managers may send BoMs to PICO.")
        )
        for bom in self:
            blocker = bom._pico_company()._pico_bom_transfer_blocker()
            if blocker:
                raise UserError(blocker)
            if not bom.operation_ids:
                raise UserError(
                    self.env._(
                        "%s has no operations: PICO builds a product from processes.",
                        bom.display_name,
                    )
                )

    def _pico_queue_transfer(self):
        """Queue the Work Instructions calls of these BoMs in the outbox.

        A PICO Manager needs no right to edit BoMs for it: the connector marks
        them sent and notes it in their chatter.
        """
        self._pico_check_can_send()
        vals_list = []
        for bom in self:
            vals_list += bom._pico_transfer_message_vals()
        self.sudo().pico_transferred = True
        for bom in self.sudo():
            bom.message_post(
                body=self.env._(
                    "Queued for PICO as product %(id)s with %(count)s processes.",
                    id=bom.pico_wi_product_id,
                    count=len(bom.operation_ids),
                )
            )
        return self.env["pico.message"].sudo()._queue(vals_list)

    def _pico_transfer_message_vals(self):
        """Stations first, then processes, then the product naming them."""
        self.ensure_one()
        operations = self.operation_ids.sorted(lambda o: (o.sequence, o.id))
        calls = [
            ("PicoStationCreate", bom_transfer.station_input(wc_id, name))
            for wc_id, name in dict(
                (o.pico_wi_station_id, o.workcenter_id.name) for o in operations
            ).items()
        ]
        calls += [
            (
                "PicoProcessCreate",
                bom_transfer.process_input(
                    o.pico_wi_process_id, o.name, o._pico_instructions()
                ),
            )
            for o in operations
        ]
        calls.append(
            (
                "PicoProductCreate",
                bom_transfer.product_input(
                    self.pico_wi_product_id,
                    self.product_tmpl_id.name,
                    (self.product_id or self.product_tmpl_id).default_code,
                    self._pico_process_dependencies(operations),
                ),
            )
        )
        company = self._pico_company()
        Message = self.env["pico.message"]
        return [
            {
                "kind": "bom_transfer",
                "company_id": company.id,
                "bom_id": self.id,
                "order_ref": f"BOM/{self.id}",
                "payload": Message._dump({"document": name, "variables": {"input": v}}),
            }
            for name, v in calls
        ]

    def _pico_process_dependencies(self, operations):
        """Odoo's operation dependencies when the BoM uses them, else a chain."""
        if self.allow_operation_dependencies:
            return [
                (
                    o.pico_wi_process_id,
                    o.blocked_by_operation_ids.mapped("pico_wi_process_id"),
                )
                for o in operations
            ]
        result, previous = [], None
        for operation in operations:
            result.append(
                (operation.pico_wi_process_id, [previous] if previous else [])
            )
            previous = operation.pico_wi_process_id
        return result

    def action_view_pico_transfer_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "pico_mes.pico_message_action"
        )
        action["domain"] = [("bom_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------ BoM transfer: mapping

    @api.model
    def _pico_map_transferred(self, company):
        """After a sync: tie sent BoMs, their products and operations to PICO's."""
        boms = self.search(
            [
                ("pico_transferred", "=", True),
                ("company_id", "in", [company.id, False]),
            ]
        )
        if not boms:
            return
        wanted = set(boms.mapped("pico_wi_product_id")) | set(
            boms.operation_ids.mapped("pico_wi_process_id")
        )
        operations = self.env["pico.operation"].search(
            [("company_id", "=", company.id), ("pico_id", "in", list(wanted))]
        )
        by_pico_id = {op.pico_id: op for op in operations}
        for bom in boms:
            product_op = by_pico_id.get(bom.pico_wi_product_id)
            if not product_op:
                continue
            if not bom.pico_operation_id:  # a choice made by hand is kept
                bom.pico_operation_id = product_op
            template = bom.product_tmpl_id.with_company(company)
            if not template.pico_operation_id:
                template.pico_operation_id = product_op
            for operation in bom.operation_ids:
                process_op = by_pico_id.get(operation.pico_wi_process_id)
                by_hand = operation.pico_process_id and not operation.pico_process_auto
                if process_op and not by_hand:
                    operation.sudo().with_context(pico_auto_map=True).write(
                        {"pico_process_id": process_op.id, "pico_process_auto": True}
                    )
