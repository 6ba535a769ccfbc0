from collections import defaultdict

from odoo import api, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_round

from .. import compat
from .mrp_production import OPEN_PRODUCTION_STATES
from .pico_message import PicoProcessingError
from .pico_unit import OPEN_STATES


class PicoMrpAdapter(models.AbstractModel):
    """The one place that drives Odoo's mrp completion machinery for PICO's
    single units (bursts of one MO's units: ``pico.mrp.batch``).

    It follows ``mrp.batch.produce``: set the finished serial and the component
    lots, ``set_qty_producing`` for one unit, pick, ``button_mark_done`` with a
    backorder for the rest, then judge by the MO's state, never by what
    ``button_mark_done`` returned.

    Completions also bring their process times onto work orders
    (``pico.floor.time``): a process (work in progress) completion is timed on
    the MO holding the unit; a root completion is timed before its unit is
    produced, so that the time sits on the MO that is marked done.
    """

    _name = "pico.mrp.adapter"
    _description = "PICO completion adapter for Manufacturing"

    @api.model
    def _apply_completion(self, company, event):
        """Apply one completion; return (outcome, unit): done or unmatched."""
        unit = self._unit_of(company, event)
        if unit.operation_pico_id != event.operation_id:
            if unit.state in OPEN_STATES or unit.state == "done":  # WIP may come late
                unit._record_wip(event)
                self.env["pico.floor.time"]._record_process(unit, event)
                return "done", unit
            return "unmatched", unit
        production = self._lock_production_of(unit)
        if unit.state == "done":
            return "done", unit
        if (
            unit.state not in OPEN_STATES
            or production.state not in OPEN_PRODUCTION_STATES
        ):
            return "unmatched", unit
        self._produce_unit(production, unit, event)
        return "done", unit

    @api.model
    def _unit_of(self, company, event):
        """The unit a completion is about: by PICO's key, else (WIP) by order, index."""
        Unit = self.env["pico.unit"]
        unit = Unit._find_by_key(
            event.external_order_id, event.operation_id, event.order_index, company
        )
        return unit or Unit.search(
            [
                ("external_order_id", "=", event.external_order_id),
                ("order_index", "=", event.order_index),
                ("company_id", "=", company.id),
            ],
            limit=1,
        )

    @api.model
    def _lock_production_of(self, unit):
        """Lock and return the MO holding ``unit`` (maybe a backorder by now)."""
        unit.flush_recordset(["production_id"])
        self.env.cr.execute(
            """SELECT p.id FROM pico_unit u
                 JOIN mrp_production p ON p.id = u.production_id
                WHERE u.id = %s FOR UPDATE OF p""",
            (unit.id,),
        )
        row = self.env.cr.fetchone()
        return self.env["mrp.production"].browse(row and row[0])

    @api.model
    def _produce_unit(self, production, unit, event):
        floor_time = self.env["pico.floor.time"]
        floor_time._record_process(unit, event)
        finished_lot = self._finished_lot(production, event)
        component_lines = self._component_lines(production, event)
        try:
            self._complete_one_unit(production, unit, finished_lot, component_lines)
        except (UserError, ValidationError) as exc:
            raise PicoProcessingError(str(exc)) from exc
        unit._record_execution(event, lot=finished_lot)
        floor_time._stamp_serial(unit)

    @api.model
    def _complete_one_unit(self, production, unit, finished_lot, component_lines):
        """Produce one unit and close the MO; a backorder takes the remaining units.

        The same calls as Odoo's "produce 1, create backorder"; the completed unit
        stays on the MO that is marked done (context ``pico_keep_unit_ids``).
        """
        uom = production.product_uom_id
        one = self._one_unit(production)
        if finished_lot:
            compat.set_producing_lot(production, finished_lot)
        left = 1 - one / production.product_qty  # the backorder's share
        carried = self._set_component_lines(production, component_lines, left)
        production.qty_producing = one
        production.set_qty_producing()
        production.move_raw_ids.filtered(lambda m: m.state != "cancel").picked = True
        context = {
            "skip_redirection": True,
            "skip_backorder": True,
            "pico_keep_unit_ids": unit.ids,
            "pico_carried_lines": carried,
        }
        if (
            float_compare(production.product_qty, one, precision_rounding=uom.rounding)
            > 0
        ):
            context["mo_ids_to_backorder"] = production.ids
        result = production.with_context(**context).button_mark_done()
        self._check_carried(carried)
        if production.state != "done":
            raise PicoProcessingError(
                self.env._(
                    "Odoo did not close %(mo)s: it asks for a decision (%(what)s).",
                    mo=production.name,
                    what=isinstance(result, dict) and result.get("res_model") or result,
                )
            )

    # ----------------------------------------------------------------- lots

    @api.model
    def _finished_lot(self, production, event):
        if production.product_id.tracking == "none":
            return self.env["stock.lot"]
        serial = event.finished_serial
        if not serial:
            raise PicoProcessingError(
                self.env._(
                    "PICO reported no serial for unit %(index)s of %(product)s, "
                    "which is tracked: nothing was produced.",
                    index=event.order_index,
                    product=production.product_id.display_name,
                )
            )
        return self._find_or_create_lot(production, production.product_id, serial, True)

    @api.model
    def _find_or_create_lot(self, production, product, name, may_create):
        Lot = self.env["stock.lot"]
        lot = Lot.search(
            [
                ("product_id", "=", product.id),
                ("name", "=", name),
                ("company_id", "in", [production.company_id.id, False]),
            ],
            limit=1,
        )
        if lot:
            return lot
        if not may_create:
            raise PicoProcessingError(
                self.env._(
                    "Serial %(serial)s of %(product)s is unknown in Odoo, and the "
                    "operation type does not create component lots.",
                    serial=name,
                    product=product.display_name,
                )
            )
        return Lot.create(
            {
                "name": name,
                "product_id": product.id,
                "company_id": production.company_id.id,
            }
        )

    @api.model
    def _component_lines(self, production, event):
        """{raw move: [(lot, qty)]} for every tracked component, one unit's worth.

        Quantities are in the component product's UoM (``_prepare_move_line_vals``
        expects that), rounded to it.
        """
        serials = self._serials_by_move(production, event)
        may_create = production.picking_type_id.use_create_components_lots
        lines = {}
        for move in self._tracked_moves(production):
            quantity = self._one_unit_of(production, move)
            reported = serials.get(move, [])
            if not reported:
                if move.product_id.tracking == "serial":
                    raise PicoProcessingError(
                        self.env._(
                            "PICO reported no serial for component %(product)s.",
                            product=move.product_id.display_name,
                        )
                    )
                continue  # a lot-tracked component keeps Odoo's reserved lots
            lots = [
                self._find_or_create_lot(production, move.product_id, s, may_create)
                for s in reported
            ]
            if move.product_id.tracking == "serial":
                lines[move] = [(lot, 1.0) for lot in lots]
            else:
                lines[move] = [(lots[0], quantity)]
            self._check_serial_count(move, lines[move], quantity)
        return lines

    @api.model
    def _one_unit_of(self, production, move):
        """What one unit of the MO consumes of ``move``, in the product's UoM."""
        share = move.product_qty / production.product_uom_qty
        return float_round(share, precision_rounding=move.product_id.uom_id.rounding)

    @api.model
    def _check_serial_count(self, move, lines, quantity):
        reported = sum(qty for _lot, qty in lines)
        rounding = move.product_id.uom_id.rounding
        if float_compare(reported, quantity, precision_rounding=rounding):
            raise PicoProcessingError(
                self.env._(
                    "PICO reported %(count)s serials for %(product)s; "
                    "one unit needs %(qty)s.",
                    count=len(lines),
                    product=move.product_id.display_name,
                    qty=quantity,
                )
            )

    @api.model
    def _tracked_moves(self, production):
        return production.move_raw_ids.filtered(
            lambda m: m.state != "cancel" and m.product_id.tracking != "none"
        )

    @api.model
    def _serials_by_move(self, production, event):
        """Match reported serials to moves: by BoM line attribute, else part number."""
        moves = self._tracked_moves(production)
        by_attribute = {
            m.bom_line_id.pico_attribute_id.pico_id: m
            for m in moves
            if m.bom_line_id.pico_attribute_id
        }
        by_code = {
            m.product_id.default_code: m for m in moves if m.product_id.default_code
        }
        result = defaultdict(list)
        for consumed in event.consumed_serials:
            move = by_attribute.get(consumed.attribute_id) or by_code.get(
                consumed.part_number
            )
            if move:
                result[move].append(consumed.serial)
        return result

    @api.model
    def _set_component_lines(self, production, component_lines, left):
        """Put the reported lots on the tracked moves, picked.

        A serial reserved on the move is used where it is; the serials reserved
        for the units still to build (``left``: the backorder's share of the
        MO) are carried over to the backorder (returned as ``{move id: [line
        ids]}``, see ``stock.move``); other reserved lines are replaced by the
        reported lots.
        """
        vals_list, carried = [], {}
        for move, lots in component_lines.items():
            if move.product_id.tracking == "serial":
                used, kept = move._pico_carry_spare_serials(
                    self.env["stock.lot"].union(*[lot for lot, _qty in lots]),
                    move.product_qty * left,
                )
                used.picked = True
                if kept:
                    carried[move.id] = kept.ids
                lots = [(lot, qty) for lot, qty in lots if lot not in used.lot_id]
            else:
                move.move_line_ids.unlink()
            vals_list += [self._consumed_line_vals(move, lot, qty) for lot, qty in lots]
        self.env["stock.move.line"].create(vals_list)
        return carried

    @api.model
    def _consumed_line_vals(self, move, lot, quantity):
        """A picked line of ``move`` consuming ``quantity`` of ``lot`` where it
        is in stock (a shelf below the move's source location), else at the
        source location."""
        quant = (
            self.env["stock.quant"]
            ._gather(move.product_id, move.location_id, lot_id=lot, strict=False)
            .filtered(lambda q: q.quantity > 0)[:1]
        )
        vals = move._prepare_move_line_vals(quantity, reserved_quant=quant or None)
        return dict(vals, lot_id=lot.id, picked=True)

    @api.model
    def _one_unit(self, production):
        """One unit of the product, in the MO's unit of measure."""
        return production.product_id.uom_id._compute_quantity(
            1, production.product_uom_id
        )

    @api.model
    def _check_carried(self, carried):
        """Every carried reservation found its backorder (else roll back)."""
        ids = [line_id for line_ids in carried.values() for line_id in line_ids]
        lines = self.env["stock.move.line"].browse(ids).exists()
        lost = lines.filtered(
            lambda line: line.move_id.state in (False, "done", "cancel")
        )
        if lost:
            raise PicoProcessingError(
                self.env._(
                    "Odoo made no backorder to carry the reserved serials %(lots)s.",
                    lots=", ".join(lost.lot_id.mapped("name")),
                )
            )
