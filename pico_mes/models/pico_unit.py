from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, float_is_zero, float_round

from ..exceptions import PicoStateError

OPEN_STATES = ("queued", "sent", "in_progress", "failed")
UNSTARTED_STATES = ("queued", "sent", "failed")
SCRAPPABLE_STATES = ("sent", "in_progress", "done")
# States of an MO that still builds its units; here, not in mrp_production.py,
# which imports this module.
OPEN_PRODUCTION_STATES = ("confirmed", "progress", "to_close")
SUPERVISOR_GROUPS = ("pico_mes.group_pico_manager", "mrp.group_mrp_manager")
WIP_LOG_LINES = 200  # the newest child-operation completions kept as text


class PicoUnit(models.Model):
    """One unit ordered from PICO: an operation order of quantity one.

    Keyed like PICO keys it, ``(externalOrderId, operationId, orderIndex)``. The MO
    holding the unit changes when Odoo splits or backorders; the key never does.

    PICO sends no scrap signal: a supervisor records it here. The unit's stock
    goes to scrap through ``stock.scrap`` linked to its MO: one unit's worth of
    components for a unit in progress, the finished serial (which holds its
    components) for a finished one. A replacement is a new orderIndex of the same
    PICO order, so the MO chain still delivers its quantity.
    """

    _name = "pico.unit"
    _description = "PICO Ordered Unit"
    _order = "external_order_id, order_index"
    _rec_name = "external_order_id"
    _check_company_auto = True

    external_order_id = fields.Char(
        string="PICO Order Reference", required=True, readonly=True
    )
    operation_id = fields.Many2one(
        "pico.operation",
        required=True,
        readonly=True,
        ondelete="restrict",
        check_company=True,
    )
    operation_pico_id = fields.Char(
        string="PICO Operation ID", required=True, readonly=True
    )
    order_index = fields.Integer(required=True, readonly=True)
    production_id = fields.Many2one(
        "mrp.production",
        string="Manufacturing Order",
        index=True,
        readonly=True,
        check_company=True,
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("sent", "Sent"),
            ("in_progress", "In Progress"),
            ("done", "Done"),
            ("cancelled", "Cancelled"),
            ("failed", "Failed"),
            ("scrapped", "Scrapped"),
        ],
        default="queued",
        required=True,
        readonly=True,
        index=True,
    )
    lot_id = fields.Many2one(
        "stock.lot", string="Lot/Serial", readonly=True, check_company=True
    )
    produced_serial = fields.Char(readonly=True)
    consumed_serials = fields.Char(readonly=True)
    started_at = fields.Datetime(readonly=True)
    completed_at = fields.Datetime(readonly=True)
    cycle_time = fields.Float(string="Cycle Time (min)", digits=(16, 2), readonly=True)
    station = fields.Char(readonly=True)
    operator = fields.Char(readonly=True)
    wip_log = fields.Text(
        string="Work in Progress", readonly=True, help="PICO's child completions."
    )
    process_ids = fields.One2many(
        "pico.unit.process", "unit_id", string="Processes", readonly=True
    )
    pico_url = fields.Char(string="Open in PICO", compute="_compute_pico_url")
    scrap_reason = fields.Char(readonly=True)
    scrapped_at = fields.Datetime(readonly=True)
    scrap_ids = fields.Many2many(
        "stock.scrap",
        "pico_unit_stock_scrap_rel",
        "unit_id",
        "scrap_id",
        string="Scraps",
        readonly=True,
    )
    product_id = fields.Many2one(
        "product.product",
        related="production_id.product_id",
        store=True,
        index=True,
        string="Product",
    )
    replacement_id = fields.Many2one(
        "pico.unit", string="Replaced By", readonly=True, copy=False
    )
    # The outbound messages about this unit (pico.message.unit_ids): the one
    # that orders it in PICO, and the one that cancels it there, if any.
    order_message_id = fields.Many2one(
        "pico.message",
        string="Ordered by",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    cancel_message_id = fields.Many2one(
        "pico.message",
        string="Cancelled by",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )

    _sql_constraints = [
        (
            "pico_key_uniq",
            "unique(company_id, external_order_id, operation_pico_id, order_index)",
            "PICO orders each unit once per company.",
        )
    ]

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS pico_unit_order_index_idx"
            " ON pico_unit (external_order_id, order_index)"
        )
        self._init_message_links()

    def _init_message_links(self):
        """Databases from before the units named their messages kept the links
        in a relation table: copy them over, then drop it."""
        self.env.cr.execute("SELECT to_regclass('pico_message_pico_unit_rel')")
        if not self.env.cr.fetchone()[0]:
            return
        for column, kinds in (
            ("order_message_id", ("order_save",)),
            ("cancel_message_id", ("order_cancel",)),
        ):
            self.env.cr.execute(
                f"""UPDATE pico_unit u SET {column} = r.pico_message_id
                      FROM pico_message_pico_unit_rel r
                      JOIN pico_message m ON m.id = r.pico_message_id
                     WHERE r.pico_unit_id = u.id AND m.kind IN %s
                       AND u.{column} IS NULL""",  # noqa: S608 -- constant SQL
                (kinds,),
            )
        self.env.cr.execute("DROP TABLE pico_message_pico_unit_rel")

    @api.depends("external_order_id", "order_index")
    def _compute_display_name(self):
        for unit in self:
            unit.display_name = f"{unit.external_order_id} #{unit.order_index}"

    @api.depends("external_order_id", "order_index", "company_id.pico_unit_link")
    def _compute_pico_url(self):
        for unit in self:
            unit.pico_url = unit.company_id._pico_unit_url(
                unit.external_order_id, unit.order_index
            )

    # ---------------------------------------------------------- transitions

    def _transition(self, state, allowed, name):
        """Move to ``state`` from one of ``allowed``; anything else is a bug."""
        wrong = self.filtered(lambda u: u.state not in allowed)
        if wrong:
            raise PicoStateError(
                f"pico.unit {wrong.ids}: cannot {name} from state "
                f"{sorted(set(wrong.mapped('state')))}"
            )
        if self:
            self.write({"state": state})
        return self

    def _set_sent(self):
        """PICO accepted the save."""
        return self._transition("sent", ("queued",), "set sent")

    def _set_failed(self):
        """PICO refused the save for good."""
        return self._transition("failed", ("queued",), "set failed")

    def _set_queued(self):
        """A manager retries a refused save."""
        return self._transition("queued", ("failed",), "queue again")

    def _set_cancelled(self):
        """Only units PICO has not started can be cancelled."""
        return self._transition("cancelled", UNSTARTED_STATES, "cancel")

    def _set_in_progress(self):
        return self._transition("in_progress", ("queued", "sent"), "start")

    def _save_input(self):
        """This unit as PICO's ``OperationOrderSaveInput``."""
        self.ensure_one()
        return self._save_input_of(self)

    @api.model
    def _save_input_of(self, unit):
        """PICO's ``OperationOrderSaveInput`` of a unit or of its values."""
        return {
            "externalOrderId": unit["external_order_id"],
            "operationId": unit["operation_pico_id"],
            "orderIndex": unit["order_index"],
        }

    def _cancel_input(self):
        self.ensure_one()
        return dict(self._save_input(), cancelAll=False)

    @api.model
    def _find_by_key(
        self, external_order_id, operation_pico_id, order_index, company=None
    ):
        domain = [
            ("external_order_id", "=", external_order_id),
            ("operation_pico_id", "=", operation_pico_id),
            ("order_index", "=", order_index),
        ]
        if company is not None:
            domain.append(("company_id", "=", company.id))
        return self.search(domain, limit=1)

    def _record_execution(self, event, lot):
        """The unit is built: store PICO's execution data (times, station, operator)."""
        self._transition("done", OPEN_STATES, "complete")
        self.write(
            {
                "lot_id": lot.id,
                "started_at": event.started_at,
                "completed_at": event.at,
                "cycle_time": (event.cycle_time_ms or 0) / 60000.0,
                "station": event.station,
                "operator": event.operator,
                "produced_serial": event.finished_serial,
                "consumed_serials": ", ".join(
                    f"{c.part_number or c.attribute_id}: {c.serial}"
                    for c in event.consumed_serials
                )
                or False,
            }
        )

    def _record_wip(self, event):
        """A child operation finished: log it, no stock effect."""
        line = self.env._(
            "%(at)s %(operation)s done at %(station)s by %(operator)s",
            at=fields.Datetime.to_string(event.at),
            operation=event.operation_id,
            station=event.station or "-",
            operator=event.operator or "-",
        )
        lines = [*(self.wip_log or "").splitlines(), line]
        self.wip_log = "\n".join(lines[-WIP_LOG_LINES:])  # PICO decides how many come
        self.filtered(lambda u: u.state in ("queued", "sent"))._set_in_progress()

    # ---------------------------------------------------------------- scrap

    def action_pico_scrap_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Scrap unit"),
            "res_model": "pico.unit.scrap.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_unit_id": self.id},
        }

    def action_pico_scrap(self, reason, replace=False):
        """Scrap these units with ``reason``; order a replacement when ``replace``.

        Callable over RPC. Returns the ids of the replacement units (empty
        without), so that the answer is plain JSON.
        """
        if not any(self.env.user.has_group(group) for group in SUPERVISOR_GROUPS):
            raise AccessError(
                self.env._("Only PICO or Manufacturing managers may scrap units.")
            )
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Give the reason of the scrap."))
        replacements = self.browse()
        for unit in self:
            replacements |= unit._pico_scrap_one(reason, bool(replace))
        return replacements.ids

    def _set_scrapped(self, reason, scraps):
        """The named transition: only a unit PICO has received, started or built."""
        self._transition("scrapped", SCRAPPABLE_STATES, "scrap")
        self.write(
            {
                "scrap_reason": reason,
                "scrapped_at": fields.Datetime.now(),
                "scrap_ids": [fields.Command.link(s.id) for s in scraps],
            }
        )

    def _pico_scrap_one(self, reason, replace):
        self.ensure_one()
        self._pico_lock_production()
        if self.state not in SCRAPPABLE_STATES or not self.production_id:
            raise UserError(
                self.env._(
                    "Unit %(unit)s is %(state)s: only units PICO has received, "
                    "started or finished can be scrapped.",
                    unit=self.display_name,
                    state=self.state,
                )
            )
        finished = self.state == "done"
        production = self.production_id
        scraps = self._pico_scrap_finished() if finished else self._pico_scrap_parts()
        self.sudo()._set_scrapped(reason, scraps)
        if not finished:
            self._pico_queue_own_cancel()
        replacement = self.browse()
        if replace:
            replacement = self._pico_order_replacement(finished)
            self.sudo().replacement_id = replacement
        elif not finished:
            self._pico_drop_one_unit(production)
        production.message_post(
            body=self.env._(
                "PICO unit %(unit)s scrapped: %(reason)s. %(next)s",
                unit=self.display_name,
                reason=reason,
                next=self.env._("Replacement ordered as %s.", replacement.display_name)
                if replacement
                else self.env._("No replacement."),
            )
        )
        return replacement

    def _pico_lock_production(self):
        """Lock the unit's MO as a completion does, then re-read the unit: a
        completion processed meanwhile is seen, never applied twice."""
        self.flush_recordset(["production_id"])
        self.env.cr.execute(
            """SELECT p.id FROM pico_unit u
                 JOIN mrp_production p ON p.id = u.production_id
                WHERE u.id = %s FOR UPDATE OF p""",
            (self.id,),
        )
        self.invalidate_recordset()

    # ---------------------------------------------------------- scrap: stock

    def _pico_scrap_finished(self):
        production = self.production_id
        return self._pico_do_scrap(
            production,
            [(production.product_id, production.product_uom_id, 1.0, self.lot_id)],
        )

    def _pico_scrap_parts(self):
        """One unit's worth of every component of the MO, with lots where tracked."""
        production = self.production_id
        one = production.product_id.uom_id._compute_quantity(
            1, production.product_uom_id
        )
        lines = []
        for move in production.move_raw_ids.filtered(
            lambda m: m.state not in ("done", "cancel")
        ):
            quantity = float_round(
                move.product_uom_qty * one / production.product_qty,
                precision_rounding=move.product_uom.rounding,
            )
            if float_is_zero(quantity, precision_rounding=move.product_uom.rounding):
                continue
            if move.product_id.tracking == "none":
                lines.append((move.product_id, move.product_uom, quantity, None))
                continue
            lots = self._pico_component_lots(move, production)
            if move.product_id.tracking == "serial":
                count = int(
                    move.product_uom._compute_quantity(quantity, move.product_id.uom_id)
                )
                if len(lots) < count:
                    raise UserError(
                        self.env._(
                            "Not enough serials of %s in stock to scrap.",
                            move.product_id.display_name,
                        )
                    )
                lines += [
                    (move.product_id, move.product_id.uom_id, 1.0, lot)
                    for lot in lots[:count]
                ]
            elif lots:
                lines.append((move.product_id, move.product_uom, quantity, lots[0]))
            else:
                raise UserError(
                    self.env._(
                        "No lot of %s is in stock to scrap.",
                        move.product_id.display_name,
                    )
                )
        return self._pico_do_scrap(production, lines)

    def _pico_component_lots(self, move, production):
        """Lots the MO reserved for this component first, then any in stock."""
        reserved = move.move_line_ids.lot_id
        quants = (
            self.env["stock.quant"]
            ._gather(move.product_id, production.location_src_id)
            .filtered(
                lambda q: (
                    q.lot_id
                    and float_compare(
                        q.quantity, 0, precision_rounding=q.product_uom_id.rounding
                    )
                    > 0
                )
            )
        )
        others = quants.lot_id - reserved
        return list(reserved) + list(others)

    def _pico_do_scrap(self, production, lines):
        """Scrap (product, uom, quantity, lot) lines from the MO's locations."""
        scraps = self.env["stock.scrap"].create(
            [
                {
                    "product_id": product.id,
                    "product_uom_id": uom.id,
                    "scrap_qty": quantity,
                    "lot_id": lot.id if lot else False,
                    "production_id": production.id,
                    "company_id": production.company_id.id,
                    "origin": production.name,
                }
                for product, uom, quantity, lot in lines
            ]
        )
        scraps.do_scrap()
        return scraps

    # ----------------------------------------------------------- scrap: PICO

    def _pico_queue_own_cancel(self):
        """Tell PICO not to build it; PICO leaves an already started order alone."""
        production = self.production_id
        self.env["pico.message"].sudo()._queue(
            [
                {
                    "kind": "order_cancel",
                    "company_id": self.company_id.id,
                    "production_id": production.id,
                    "order_ref": self.external_order_id,
                    "unit_ids": [fields.Command.set(self.ids)],
                    "payload": self.env["pico.message"]._dump(
                        {"inputs": [self._cancel_input()]}
                    ),
                }
            ]
        )

    def _pico_order_replacement(self, finished):
        """A new orderIndex: on the same MO, or the order's open MO when finished."""
        production = self.production_id
        if finished:
            production = self._pico_open_production_of_order()
            if not production:
                raise UserError(
                    self.env._(
                        "Every manufacturing order of %s is closed: create a new one "
                        "for the replacement.",
                        self.external_order_id,
                    )
                )
            before = production.pico_unit_ids
            self._pico_change_quantity(production, +1)  # the MO orders the unit
            return production.pico_unit_ids - before
        replacement = (
            self.env["pico.unit"]
            .sudo()
            .create(production._pico_unit_vals(1, production._pico_next_index()))
        )
        production._pico_queue_saves(replacement)
        return replacement

    def _pico_open_production_of_order(self):
        return self.env["mrp.production"].search(
            [
                ("pico_order_ref", "=", self.external_order_id),
                ("company_id", "=", self.company_id.id),
                ("state", "in", OPEN_PRODUCTION_STATES),
            ],
            order="id desc",
            limit=1,
        )

    def _pico_drop_one_unit(self, production):
        """Without replacement the MO builds one unit less (the last: cancelled)."""
        if production.state not in OPEN_PRODUCTION_STATES:
            return
        one = production.product_id.uom_id._compute_quantity(
            1, production.product_uom_id
        )
        rounding = production.product_uom_id.rounding
        if float_compare(production.product_qty, one, precision_rounding=rounding) > 0:
            self._pico_change_quantity(production, -1)
        else:
            production.action_cancel()

    @api.model
    def _pico_change_quantity(self, production, units):
        one = production.product_id.uom_id._compute_quantity(
            1, production.product_uom_id
        )
        self.env["change.production.qty"].create(
            {
                "mo_id": production.id,
                "product_qty": production.product_qty + units * one,
            }
        ).change_prod_qty()
