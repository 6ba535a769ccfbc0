from collections import defaultdict, namedtuple

from odoo import api, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare

from .. import compat
from ..exceptions import PicoProcessingError
from ..services.conflicts import expected_conflicts
from .mrp_production import OPEN_PRODUCTION_STATES
from .pico_unit import OPEN_STATES

BurstItem = namedtuple("BurstItem", "message unit event lot lines")


class PicoMrpBatch(models.AbstractModel):
    """The one place that produces several pending completions of one MO in one
    pass (single units: ``pico.mrp.adapter``, whose lot rules it shares).

    As ``mrp.batch.produce`` does: split the MO into one MO per finished serial
    (one MO for all the units when the product has no serial), set the serials
    and component lots, mark them done together; a backorder keeps the units
    left. Each completion is checked first: one that would fail is left to the
    one-by-one path, where it fails alone. Units are timed as on that path: the
    root process before the MO holding the unit is marked done, the serial after.
    """

    _name = "pico.mrp.batch"
    _description = "PICO burst production for Manufacturing"

    # ------------------------------------------------------------- planning

    @api.model
    def _root_units(self, company, events):
        """The unit each event completes (its own operation), else None (WIP,
        unknown unit): one query for all the events."""
        Unit = self.env["pico.unit"]
        refs = {event.external_order_id for event in events}
        indexes = {event.order_index for event in events}
        units = Unit.search(
            [
                ("external_order_id", "in", list(refs)),
                ("order_index", "in", list(indexes)),
                ("company_id", "=", company.id),
            ]
        )
        by_key = {
            (u.external_order_id, u.operation_pico_id, u.order_index): u for u in units
        }
        return [
            by_key.get((e.external_order_id, e.operation_id, e.order_index))
            for e in events
        ]

    @api.model
    def _burst_batches(self, items):
        """Sort (message, unit, event) root completions into ``{MO: items}``
        worth producing together, and the messages left to the one-by-one path
        (a second completion of a unit, closed units or MOs, lone completions)."""
        holders = self._lock_productions_of(
            self.env["pico.unit"].union(*[i[1] for i in items])
        )
        batches, rest, seen = defaultdict(list), [], set()
        for message, unit, event in items:
            production = holders.get(unit.id)
            if (
                unit.id in seen
                or unit.state not in OPEN_STATES
                or not production
                or production.state not in OPEN_PRODUCTION_STATES
            ):
                rest.append(message)
                continue
            seen.add(unit.id)
            batches[production].append((message, unit, event))
        for production in [p for p, group in batches.items() if len(group) < 2]:
            rest += [message for message, _unit, _event in batches.pop(production)]
        return batches, rest

    @api.model
    def _lock_productions_of(self, units):
        """Lock the MOs holding ``units``; return {unit id: MO}."""
        units.flush_recordset(["production_id"])
        with expected_conflicts():  # a concurrent completion: retried by design
            self.env.cr.execute(
                """SELECT u.id, p.id FROM pico_unit u
                     JOIN mrp_production p ON p.id = u.production_id
                    WHERE u.id = ANY(%s) ORDER BY p.id FOR UPDATE OF p""",
                (units.ids,),
            )
        Production = self.env["mrp.production"]
        return {
            unit_id: Production.browse(mo_id)
            for unit_id, mo_id in self.env.cr.fetchall()
        }

    # ------------------------------------------------------------ producing

    @api.model
    def _produce_burst(self, production, items):
        """Produce the valid completions of ``items`` together; return the
        BurstItems produced (none when fewer than two are valid)."""
        valid = self._valid_for_burst(production, items)
        if len(valid) < 2:
            return []
        chunks = self._burst_chunks(production, valid)
        productions = self._split_for_burst(production, chunks)
        self._set_burst_components(productions, chunks)
        floor_time = self.env["pico.floor.time"]
        for item in valid:
            floor_time._record_process(item.unit, item.event)
        try:
            self._mark_burst_done(productions, chunks, valid)
        except (UserError, ValidationError) as exc:
            raise PicoProcessingError(str(exc)) from exc
        for item in valid:
            item.unit._record_execution(item.event, lot=item.lot)
            floor_time._stamp_serial(item.unit)
        return valid

    @api.model
    def _valid_for_burst(self, production, items):
        """BurstItems whose serials and lots resolve, and which use no serial
        another item of the burst uses (Odoo would refuse the second one)."""
        Adapter = self.env["pico.mrp.adapter"]
        valid, used, shape = [], set(), None
        for message, unit, event in items:
            try:
                with self.env.cr.savepoint():
                    lot = Adapter._finished_lot(production, event)
                    lines = Adapter._component_lines(production, event)
            except (PicoProcessingError, UserError, ValidationError):
                continue  # fails on its own, one by one
            serials = self._serials_of(lot, lines)
            item_shape = frozenset(lines)
            if serials & used or (shape is not None and item_shape != shape):
                continue
            shape, used = item_shape, used | serials
            valid.append(BurstItem(message, unit, event, lot, lines))
        return valid

    @api.model
    def _serials_of(self, lot, lines):
        serials = (
            {("finished", lot.id)} if lot.product_id.tracking == "serial" else set()
        )
        return serials | {
            (move.product_id.id, component_lot.id)
            for move, pairs in lines.items()
            if move.product_id.tracking == "serial"
            for component_lot, _qty in pairs
        }

    @api.model
    def _burst_chunks(self, production, valid):
        """Items per MO to mark done: one per serial, one MO per run of a lot."""
        if production.product_id.tracking == "serial":
            return [[item] for item in valid]
        chunks = []
        for item in valid:
            if chunks and chunks[-1][0].lot == item.lot:
                chunks[-1].append(item)
            else:
                chunks.append([item])
        return chunks

    @api.model
    def _unit_qty(self, production):
        return production.product_id.uom_id._compute_quantity(
            1, production.product_uom_id
        )

    @api.model
    def _split_for_burst(self, production, chunks):
        """The MOs to mark done, one per chunk, holding the chunk's units; the
        units left go to a backorder (context ``pico_keep_unit_ids`` orders them)."""
        one = self._unit_qty(production)
        amounts = [one * len(chunk) for chunk in chunks]
        rounding = production.product_uom_id.rounding
        if (
            len(chunks) == 1
            and float_compare(
                amounts[0], production.product_qty, precision_rounding=rounding
            )
            >= 0
        ):
            return production
        unit_ids = [item.unit.id for chunk in chunks for item in chunk]
        left = 1 - sum(amounts) / production.product_qty  # the backorder's share
        carried = self._carry_spare_serials(production, chunks, left)
        productions = production.with_context(
            pico_keep_unit_ids=unit_ids, pico_carried_lines=carried
        )._split_productions({production: amounts})
        self.env["pico.mrp.adapter"]._check_carried(carried)
        return productions.with_env(self.env)[: len(chunks)]

    @api.model
    def _carry_spare_serials(self, production, chunks, left):
        """The serials reserved for the units left (``left``: the backorder's
        share of the MO) go to the backorder as they are (see ``stock.move``);
        those of the burst's serials are replaced on its MOs."""
        used = defaultdict(lambda: self.env["stock.lot"])
        for chunk in chunks:
            for item in chunk:
                for move, pairs in item.lines.items():
                    used[move] |= self.env["stock.lot"].union(*[p[0] for p in pairs])
        carried = {}
        for move, lots in used.items():
            if move.product_id.tracking != "serial":
                continue
            _used, kept = move._pico_carry_spare_serials(lots, move.product_qty * left)
            if kept:
                carried[move.id] = kept.ids
        return carried

    @api.model
    def _set_burst_components(self, productions, chunks):
        """The reported component lots on each MO's tracked moves, in one go."""
        Adapter = self.env["pico.mrp.adapter"]
        quantities = defaultdict(float)
        for production, chunk in zip(productions, chunks, strict=True):
            moves = {
                (m.bom_line_id.id, m.product_id.id): m
                for m in Adapter._tracked_moves(production)
            }
            for item in chunk:
                for move, pairs in item.lines.items():
                    target = moves[(move.bom_line_id.id, move.product_id.id)]
                    for lot, quantity in pairs:
                        quantities[(target, lot)] += quantity
        if not quantities:
            return
        Move = self.env["stock.move"]
        Move.union(*[move for move, _lot in quantities]).move_line_ids.unlink()
        self.env["stock.move.line"].create(
            [
                Adapter._consumed_line_vals(move, lot, quantity)
                for (move, lot), quantity in quantities.items()
            ]
        )

    @api.model
    def _mark_burst_done(self, productions, chunks, valid):
        """``set_qty_producing`` per MO, pick, one ``button_mark_done`` for all."""
        one = self._unit_qty(productions[:1])
        for production, chunk in zip(productions, chunks, strict=True):
            if chunk[0].lot:
                compat.set_producing_lot(production, chunk[0].lot)
            production.qty_producing = one * len(chunk)
            production.set_qty_producing()
        productions.move_raw_ids.filtered(lambda m: m.state != "cancel").picked = True
        result = productions.with_context(
            skip_redirection=True,
            skip_backorder=True,
            pico_keep_unit_ids=[item.unit.id for item in valid],
        ).button_mark_done()
        open_ = productions.filtered(lambda p: p.state != "done")
        if open_:
            raise PicoProcessingError(
                self.env._(
                    "Odoo did not close %(mo)s: it asks for a decision (%(what)s).",
                    mo=", ".join(open_.mapped("name")),
                    what=isinstance(result, dict) and result.get("res_model") or result,
                )
            )
