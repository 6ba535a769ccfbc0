from odoo import models
from odoo.tools import float_compare

from .. import compat


class StockMove(models.Model):
    """Serials reserved for a PICO order follow its units into backorders.

    When PICO completes units of an MO, Odoo closes the MO and moves the rest to
    a backorder. Left to itself it releases every serial the MO had reserved
    and reserves them again for the backorder, one quant at a time: the cost of
    each unit would grow with the size of the order. Here the reserved lines of
    the units still to build are handed as they are (same serial, location,
    quantity) to the backorder's move when Odoo reserves it (context
    ``pico_carried_lines``: ``{source move id: [move line ids]}``).

    A serial finished product of a PICO order also gets one finished line for
    all its units (context ``pico_one_finished_line``, at confirmation) instead
    of Odoo's one per unit, which every split would copy line by line: the
    serial of each unit is set when it is produced, as on Odoo's own path.
    """

    _inherit = "stock.move"

    def _pico_carry_spare_serials(self, used_lots, remaining_qty):
        """Sort a serial component's reserved lines for a completion: return
        (the reserved lines of ``used_lots``, the lines carried over).

        At most ``remaining_qty`` (the demand left to the units still to build,
        in the product's UoM) is carried over, in reservation order; the other
        spare lines are released. Carried lines leave the move, reservation
        kept, until the backorder's move takes them: on the move, Odoo would
        pick them with it (a work order's end picks all its lines) or split
        them line by line.
        """
        self.ensure_one()
        reserved = self.move_line_ids.filtered(lambda line: not line.picked)
        used = reserved.filtered(lambda line: line.lot_id in used_lots)
        spare = (reserved - used).sorted("id")  # reservation order
        carried = self._pico_lines_within(spare, remaining_qty)
        (spare - carried).unlink()
        if carried:
            carried.write({"move_id": False})
        return used, carried

    def _pico_lines_within(self, lines, quantity):
        """The first of ``lines`` whose quantities add up to at most ``quantity``."""
        rounding = self.product_id.uom_id.rounding
        taken, room = lines.browse(), quantity
        for line in lines:
            if (
                float_compare(
                    line.quantity_product_uom, room, precision_rounding=rounding
                )
                > 0
            ):
                break
            taken |= line
            room -= line.quantity_product_uom
        return taken

    def _action_assign(self, force_qty=False):
        if self and self.env.context.get("pico_carried_lines"):
            self._pico_take_carried_lines(self.env.context["pico_carried_lines"])
        if self and self.env.context.get("pico_one_finished_line"):
            self._pico_one_finished_line(self.env.context["pico_one_finished_line"])
        return super()._action_assign(force_qty=force_qty)

    def _pico_take_carried_lines(self, carried):
        """Give the carried lines not yet taken to the move of these that
        continues their source move (same component, a later MO of the same
        order; the last one, the backorder that keeps the rest, when a split
        makes several). Return the moves that took lines."""
        Line = self.env["stock.move.line"]
        takers = self.browse()
        for source_id, line_ids in carried.items():
            source = self.browse(int(source_id))
            lines = Line.browse(line_ids).filtered(lambda line: not line.move_id)
            target = self._pico_continuation_of(source) if lines else None
            if target:
                lines.write({"move_id": target.id})
                takers |= target
        return takers

    def _pico_continuation_of(self, source):
        production = source.raw_material_production_id
        family = compat.production_family(production) - production
        return self.filtered(
            lambda move: (
                move.raw_material_production_id in family
                and move.bom_line_id == source.bom_line_id
                and move.product_id == source.product_id
                and move.state not in ("done", "cancel")
            )
        )[-1:]

    def _pico_one_finished_line(self, production_ids):
        """One line for the whole quantity of the finished serial moves of
        these MOs, where Odoo would make one per unit."""
        moves = self.filtered(
            lambda move: (
                move.production_id.id in production_ids
                and move.product_id == move.production_id.product_id
                and move.product_id.tracking == "serial"
                and move.state in ("confirmed", "partially_available")
                and not move.move_line_ids
                and move._should_bypass_reservation()
            )
        )
        if moves:
            self.env["stock.move.line"].create(
                [
                    move._prepare_move_line_vals(quantity=move.product_qty)
                    for move in moves
                ]
            )
