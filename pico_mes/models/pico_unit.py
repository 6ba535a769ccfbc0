from datetime import datetime, timedelta
from types import SimpleNamespace

import pytz

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, float_compare

from .. import compat
from ..exceptions import PicoStateError
from ..services.payload import MAX_ITEMS, ConsumedSerial

OPEN_STATES = ("queued", "sent", "in_progress", "failed")
UNSTARTED_STATES = ("queued", "sent", "failed")
SCRAPPABLE_STATES = ("in_progress", "done")  # what PICO started or built
# States of an MO that still builds its units; here, not in mrp_production.py,
# which imports this module.
OPEN_PRODUCTION_STATES = ("confirmed", "progress", "to_close")
SUPERVISOR_GROUPS = ("pico_mes.group_pico_manager", "mrp.group_mrp_manager")
WIP_LOG_LINES = 200  # the newest child-operation completions kept as text
HOUR_FORMAT = "%Y-%m-%d %H:00"  # completed_hour, in the reader's time zone


class PicoUnit(models.Model):
    """One unit ordered from PICO: an operation order of quantity one.

    Keyed like PICO keys it, ``(externalOrderId, operationId, orderIndex)``. The MO
    holding the unit changes when Odoo splits or backorders; the key never does.

    PICO sends no scrap signal: a supervisor records it here, for a unit PICO
    has started or built. The unit's stock goes to scrap through ``stock.scrap``
    linked to its MO: for a unit in progress one unit's worth of components (the
    serials PICO reported for it, the rest from the MO's reservations), for a
    finished one its serial (which holds its components). A replacement is a new
    orderIndex of the same PICO order, so the MO chain still delivers its quantity.
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
    completed_at = fields.Datetime(readonly=True, index="btree_not_null")
    completed_hour = fields.Char(
        string="Completion Hour",
        compute="_compute_completed_hour",
        search="_search_completed_hour",
        help="The hour PICO completed the unit, in your time zone; units can be "
        "grouped by it (Odoo 18's views group dates by the day at the finest).",
    )
    cycle_time = fields.Float(string="Cycle Time (min)", digits=(16, 2), readonly=True)
    station = fields.Char(readonly=True)
    operator = fields.Char(readonly=True)
    wip_log = fields.Text(
        string="Work in Progress", readonly=True, help="PICO's child completions."
    )
    reported_component_serials = fields.Json(
        readonly=True,
        copy=False,
        help="[attribute id, part number, serial] of the components PICO reported "
        "for this unit while building it: what a scrap of the unit writes off.",
    )
    time_notes = fields.Text(
        readonly=True,
        copy=False,
        help="PICO times that were not logged, and why.",
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

    _pico_key_uniq = compat.Constraint(
        "unique(company_id, external_order_id, operation_pico_id, order_index)",
        "PICO orders each unit once per company.",
    )

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

    def _pico_tz(self):
        name = self.env.context.get("tz") or self.env.user.tz
        return name if name in pytz.all_timezones_set else "UTC"

    @api.depends("completed_at")
    @api.depends_context("tz")
    def _compute_completed_hour(self):
        zone = pytz.timezone(self._pico_tz())
        for unit in self:
            unit.completed_hour = unit.completed_at and pytz.utc.localize(
                unit.completed_at
            ).astimezone(zone).strftime(HOUR_FORMAT)

    def _search_completed_hour(self, operator, value):
        """``completed_hour = '2026-03-02 14:00'`` (or ``in`` several): the
        completions of that hour, as a range of ``completed_at``."""
        if operator not in ("=", "in"):
            raise UserError(self.env._("Search the completion hour by its value."))
        zone = pytz.timezone(self._pico_tz())
        ranges = []
        for label in [value] if operator == "=" else value:
            if not label:
                ranges.append([("completed_at", "=", False)])
                continue
            start = zone.localize(datetime.strptime(label, HOUR_FORMAT))
            start = start.astimezone(pytz.utc).replace(tzinfo=None)
            ranges.append(
                [
                    ("completed_at", ">=", start),
                    ("completed_at", "<", start + timedelta(hours=1)),
                ]
            )
        if not ranges:
            return [("id", "=", False)]
        domain = ["|"] * (len(ranges) - 1)
        for part in ranges:
            domain += ["&", *part] if len(part) == 2 else part
        return domain

    def _read_group_groupby(self, *args):
        """Group by ``completed_hour``: the completion's hour in the reader's
        time zone, computed by PostgreSQL."""
        alias, spec, query = compat.read_group_groupby_args(self, args)
        if spec != "completed_hour":
            return super()._read_group_groupby(*args)
        completed = self._field_to_sql(alias, "completed_at", query)
        return SQL(
            "to_char(timezone(%s, timezone('UTC', %s)), 'YYYY-MM-DD HH24:00')",
            self._pico_tz(),
            completed,
        )

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
        """The unit is built: store PICO's execution data (times, station, operator);
        times out of bounds are a note, not data."""
        self._transition("done", OPEN_STATES, "complete")
        times, problem = self.env["pico.floor.time"]._times(event)
        if problem:
            self._pico_note_time(problem)
        self.write(
            {
                "lot_id": lot.id,
                "started_at": times[0] if times else False,
                "completed_at": event.at,
                "cycle_time": times[2] if times else 0.0,
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
        self._pico_remember_serials(event.consumed_serials)
        building = self.filtered(lambda u: u.state in ("queued", "sent", "in_progress"))
        seen_later = building.process_ids.filtered(
            lambda p: p.completed_at and p.completed_at > event.at
        ).unit_id
        (building - seen_later).write(  # where the unit was last seen
            {"station": event.station, "operator": event.operator}
        )
        building.filtered(lambda u: u.state != "in_progress")._set_in_progress()

    def _pico_remember_serials(self, consumed):
        """Keep the component serials PICO reports while building: a scrap of the
        unit writes off these, not others."""
        for unit in self:
            known = [tuple(s) for s in unit.reported_component_serials or []]
            new = [
                (c.attribute_id, c.part_number, c.serial)
                for c in consumed
                if (c.attribute_id, c.part_number, c.serial) not in known
            ]
            if not new:
                continue
            serials = (known + new)[:MAX_ITEMS]
            unit.reported_component_serials = [list(s) for s in serials]
            if unit.state != "done":  # a completion writes what it consumed
                unit.consumed_serials = ", ".join(
                    f"{part or attribute}: {serial}"
                    for attribute, part, serial in serials
                )

    def _pico_note_time(self, text):
        """A line of ``time_notes``, once."""
        for unit in self:
            lines = (unit.time_notes or "").splitlines()
            if text not in lines:
                unit.time_notes = "\n".join([*lines, text][-WIP_LOG_LINES:])

    # ---------------------------------------------------------------- scrap

    def action_pico_scrap_wizard(self):
        self.ensure_one()
        self._pico_check_scrappable()
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

    def _pico_check_scrappable(self):
        """Only what PICO has started or built exists to be scrapped."""
        self.ensure_one()
        if self.state in UNSTARTED_STATES:
            raise UserError(
                self.env._(
                    "PICO has not started unit %(unit)s: nothing of it is built, so "
                    "nothing is scrapped. To build fewer units, lower the quantity "
                    "of %(mo)s or cancel it.",
                    unit=self.display_name,
                    mo=self.production_id.display_name,
                )
            )
        if self.state not in SCRAPPABLE_STATES or not self.production_id:
            states = dict(self._fields["state"]._description_selection(self.env))
            raise UserError(
                self.env._(
                    "Unit %(unit)s is %(state)s: only units PICO has started or "
                    "finished can be scrapped.",
                    unit=self.display_name,
                    state=states.get(self.state, self.state),
                )
            )

    def _set_scrapped(self, reason, scraps):
        """The named transition: only a unit PICO has started or built."""
        self._transition("scrapped", SCRAPPABLE_STATES, "scrap")
        self.write(
            {
                "scrap_reason": reason,
                "scrapped_at": fields.Datetime.now(),
                "scrap_ids": [fields.Command.link(s.id) for s in scraps],
            }
        )

    def _pico_scrap_one(self, reason, replace):
        """All or nothing: stock written off, PICO told, the MO resized."""
        self.ensure_one()
        self._pico_lock_production()
        self._pico_check_scrappable()
        with self.env.cr.savepoint():
            return self._pico_scrap_checked(reason, replace)

    def _pico_scrap_checked(self, reason, replace):
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
    #
    # Every good is taken from where it is: a quant below the MO's source
    # location for components, in the warehouse of its destination for the
    # finished unit, then scrapped through ``stock.scrap.action_validate``,
    # Odoo's checked path. Anything short refuses the whole scrap, so no quant
    # goes negative and no serial is in two places.

    def _pico_scrap_finished(self):
        """The built unit (its serial), from where it is in stock."""
        production = self.production_id
        product = production.product_id
        if product.tracking != "none" and not self.lot_id:
            raise UserError(
                self.env._(
                    "Unit %(unit)s has no serial in Odoo: nothing was scrapped.",
                    unit=self.display_name,
                )
            )
        destination = production.location_dest_id
        taken = self._pico_take(
            product,
            1.0,
            destination.warehouse_id.view_location_id or destination,
            {},
            lot=self.lot_id,
            first=destination,
        )
        return self._pico_do_scrap(production, taken)

    def _pico_scrap_parts(self):
        """One unit's worth of every component: the serials PICO reported for
        this unit, else what the MO reserved, else other stock below its source."""
        production = self.production_id
        adapter = self.env["pico.mrp.adapter"]
        moves = production.move_raw_ids.filtered(
            lambda m: m.state not in ("done", "cancel")
        )
        reported = self._pico_reported_lots(production)
        root, used, taken = production.location_src_id, {}, []
        for move in moves:
            product = move.product_id
            rounding = product.uom_id.rounding
            quantity = adapter._one_unit_of(production, move)
            lots = reported.get(move, [])
            for lot in lots if product.tracking == "serial" else lots[:1]:
                lot_quantity = 1.0 if product.tracking == "serial" else quantity
                taken += self._pico_take(product, lot_quantity, root, used, lot=lot)
                quantity -= lot_quantity
            if float_compare(quantity, 0, precision_rounding=rounding) > 0:
                taken += self._pico_take(
                    product, quantity, root, used, reserved=move.move_line_ids
                )
        return self._pico_do_scrap(production, taken)

    def _pico_reported_lots(self, production):
        """{raw move: [stock.lot]} of the component serials PICO reported for
        this unit, matched to moves as a completion matches them."""
        serials = self.reported_component_serials or []
        if not serials:
            return {}
        event = SimpleNamespace(
            consumed_serials=[ConsumedSerial(*serial) for serial in serials]
        )
        by_move = self.env["pico.mrp.adapter"]._serials_by_move(production, event)
        result = {}
        for move, names in by_move.items():
            lots = self.env["stock.lot"].search(
                [
                    ("product_id", "=", move.product_id.id),
                    ("name", "in", names),
                    ("company_id", "in", [production.company_id.id, False]),
                ]
            )
            unknown = sorted(set(names) - set(lots.mapped("name")))
            if unknown:
                raise UserError(
                    self.env._(
                        "PICO reported %(serials)s of %(product)s for unit %(unit)s, "
                        "which Odoo does not know: nothing was scrapped.",
                        serials=", ".join(unknown),
                        product=move.product_id.display_name,
                        unit=self.display_name,
                    )
                )
            by_name = {lot.name: lot for lot in lots}
            result[move] = list(dict.fromkeys(by_name[name] for name in names))
        return result

    def _pico_take(
        self, product, quantity, root, used, lot=None, reserved=None, first=None
    ):
        """[(quant, quantity)] holding ``quantity`` of ``product`` (of ``lot``)
        in the internal locations below ``root``: the MO's ``reserved`` lines
        first, then what is below ``first`` (default ``root``) itself. ``used``
        counts what this scrap already took from each quant. Raises when the
        stock is not there."""
        domain = [
            ("product_id", "=", product.id),
            ("location_id", "child_of", root.id),
            ("location_id.usage", "=", "internal"),
            ("quantity", ">", 0),
        ]
        if lot:
            domain.append(("lot_id", "=", lot.id))
        elif product.tracking != "none":
            domain.append(("lot_id", "!=", False))
        quants = self.env["stock.quant"].search(domain, order="in_date, id")
        preferred = {
            (line.location_id.id, line.lot_id.id, line.package_id.id)
            for line in reserved or ()
        }
        first = first or root
        quants = quants.sorted(
            lambda q: (
                (q.location_id.id, q.lot_id.id, q.package_id.id) not in preferred,
                not q.location_id.parent_path.startswith(first.parent_path),
                q.location_id != first,
            )
        )
        rounding = product.uom_id.rounding
        remaining, taken = quantity, []
        for quant in quants:
            if float_compare(remaining, 0, precision_rounding=rounding) <= 0:
                break
            free = quant.quantity - used.get(quant.id, 0.0)
            if float_compare(free, 0, precision_rounding=rounding) <= 0:
                continue
            amount = min(free, remaining)
            used[quant.id] = used.get(quant.id, 0.0) + amount
            taken.append((quant, amount))
            remaining -= amount
        if float_compare(remaining, 0, precision_rounding=rounding) > 0:
            raise UserError(self._pico_missing(product, quantity, root, lot))
        return taken

    def _pico_missing(self, product, quantity, root, lot):
        """Why the scrap cannot take ``product`` from below ``root``."""
        if lot:
            where = (
                self.env["stock.quant"]
                .search([("lot_id", "=", lot.id), ("quantity", ">", 0)])
                .location_id
            )
            return self.env._(
                "%(product)s %(lot)s is not in %(location)s or below it (%(where)s), "
                "so unit %(unit)s cannot be scrapped: nothing was scrapped.",
                product=product.display_name,
                lot=lot.name,
                location=root.complete_name,
                where=self.env._("now in %s", ", ".join(where.mapped("complete_name")))
                if where
                else self.env._("it is in no location"),
                unit=self.display_name,
            )
        # formatted outside the call: Babel's extractor evaluates the call's strings
        needed = f"{quantity:g}"
        return self.env._(
            "Unit %(unit)s needs %(quantity)s %(uom)s of %(product)s, and "
            "%(location)s holds less (with its sub-locations): nothing was scrapped.",
            unit=self.display_name,
            quantity=needed,
            uom=product.uom_id.name,
            product=product.display_name,
            location=root.complete_name,
        )

    def _pico_do_scrap(self, production, taken):
        """Scrap [(quant, quantity)] through Odoo's checked path, all or nothing
        (the caller's savepoint)."""
        amounts = {}
        for quant, quantity in taken:
            amounts[quant] = amounts.get(quant, 0.0) + quantity
        scraps = self.env["stock.scrap"].create(
            [
                {
                    "product_id": quant.product_id.id,
                    "product_uom_id": quant.product_id.uom_id.id,
                    "scrap_qty": quantity,
                    "lot_id": quant.lot_id.id,
                    "package_id": quant.package_id.id,
                    "owner_id": quant.owner_id.id,
                    "location_id": quant.location_id.id,
                    "production_id": production.id,
                    "company_id": production.company_id.id,
                    "origin": production.name,
                }
                for quant, quantity in amounts.items()
            ]
        )
        for scrap in scraps:
            if scrap.action_validate() is not True:  # the insufficient-quantity wizard
                raise UserError(
                    self.env._(
                        "Odoo finds less than %(quantity)s %(product)s in %(location)s "
                        "to scrap: nothing was scrapped.",
                        quantity=scrap.scrap_qty,
                        product=scrap.product_id.display_name,
                        location=scrap.location_id.complete_name,
                    )
                )
            # mrp's _compute_scrap_qty is right for one scrap at a time only
            scrap.flush_recordset(["scrap_qty"])
        return scraps

    def _pico_scrapped_completion_note(self, event):
        """Why PICO's completion of this scrapped unit changes no stock, and
        which component serials it reports that the scrap did not write off."""
        self.ensure_one()
        note = self.env._(
            "Unit %(unit)s was scrapped in Odoo (%(reason)s): this completion "
            "changes no stock.",
            unit=self.display_name,
            reason=self.scrap_reason,
        )
        if self.lot_id:  # scrapped finished: its components went with its serial
            return note
        scrapped = set(self.scrap_ids.lot_id.mapped("name"))
        others = sorted({c.serial for c in event.consumed_serials} - scrapped)
        if not others:
            return note
        return " ".join(
            [
                note,
                self.env._(
                    "PICO reports component serials %(serials)s for it, which the "
                    "scrap did not write off (it took %(scrapped)s): check which "
                    "parts went to scrap.",
                    serials=", ".join(others),
                    scrapped=", ".join(sorted(scrapped)) or "-",
                ),
            ]
        )

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
        """The order's open MO, also one the user's record rules hide."""
        Production = self.env["mrp.production"]
        return (
            Production.sudo()
            .search(
                [
                    ("pico_order_ref", "=", self.external_order_id),
                    ("company_id", "=", self.company_id.id),
                    ("state", "in", OPEN_PRODUCTION_STATES),
                ],
                order="id desc",
                limit=1,
            )
            .with_env(Production.env)
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
