from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import html2plaintext

from .. import compat
from ..access import check_engine_fields
from ..services import bom_transfer
from . import pico_operation_time
from .pico_operation_time import MEASURED_DAYS, MEDIAN_TIMES, TOLERANCE

# Set by the catalog sync only: whether it made the mapping, and why it could not.
ENGINE_FIELDS = frozenset({"pico_process_auto", "pico_mapping_note"})


class MrpRoutingWorkcenter(models.Model):
    """A BoM operation: the PICO process whose completions are its real times,
    and the PICO process and station a BoM transfer makes of it."""

    _inherit = "mrp.routing.workcenter"

    pico_process_id = fields.Many2one(
        "pico.operation",
        string="PICO Process",
        index="btree_not_null",
        copy=False,
        help="The PICO process (a sub-operation of the product's PICO operation) "
        "whose completions are this operation's real times.",
    )
    pico_allowed_process_ids = fields.Many2many(
        "pico.operation",
        compute="_compute_pico_allowed_process_ids",
        help="The processes of the BoM's PICO operation, and the operation itself.",
    )
    pico_process_auto = fields.Boolean(
        string="Mapped Automatically",
        copy=False,
        readonly=True,
        help="Set by the catalog sync; a hand-made choice is never changed by it.",
    )
    pico_mapping_note = fields.Char(
        string="PICO Mapping Note",
        copy=False,
        readonly=True,
        help="Why the automatic mapping needs a person.",
    )
    pico_instructions = fields.Html(
        string="PICO Work Instructions",
        help="What a BoM transfer sends PICO as this operation's instructions. "
        "Left empty, Odoo's own text worksheet of the operation is sent where "
        "the Odoo edition has one.",
    )
    pico_time_count = fields.Integer(
        string="PICO Times",
        compute="_compute_pico_times",
        help=f"PICO's newest times of this operation (at most {MEDIAN_TIMES}, "
        f"of the last {MEASURED_DAYS} days).",
    )
    pico_median_time = fields.Float(
        string="PICO Median (min)",
        digits=(16, 2),
        compute="_compute_pico_times",
        help="The median of PICO's newest times of this operation.",
    )
    pico_time_variance = fields.Float(
        string="PICO Variance (%)",
        digits=(16, 1),
        compute="_compute_pico_times",
        help="How much longer (negative: shorter) PICO's median is than the "
        "expected duration.",
    )
    pico_time_flagged = fields.Boolean(
        string="Far from PICO's Times",
        compute="_compute_pico_times",
        help=f"The fixed duration is more than {TOLERANCE:.0%} away from "
        "PICO's median.",
    )
    pico_wi_process_id = fields.Char(
        string="PICO Process ID", compute="_compute_pico_wi_ids"
    )
    pico_wi_station_id = fields.Char(
        string="PICO Station ID", compute="_compute_pico_wi_ids"
    )

    @api.depends("bom_id.pico_operation_id", "bom_id.product_tmpl_id")
    def _compute_pico_allowed_process_ids(self):
        for operation in self:
            product_operation = (
                operation.bom_id._pico_operation()
                if operation.bom_id
                else self.env["pico.operation"]
            )
            operation.pico_allowed_process_ids = (
                product_operation.process_link_ids.operation_id | product_operation
            )

    @api.depends_context("company")
    def _compute_pico_times(self):
        rows = {
            row.operation_id: row
            for row in self.env["pico.operation.time"]
            .sudo()
            .search(
                [
                    ("operation_id", "in", self._origin.ids),
                    ("company_id", "=", self.env.company.id),
                ]
            )
        }
        for operation in self:
            row = rows.get(operation._origin)
            operation.pico_time_count = row.time_count if row else 0
            operation.pico_median_time = row.median_time if row else 0.0
            operation.pico_time_variance = row.variance if row else 0.0
            operation.pico_time_flagged = bool(row and row.flagged)

    def action_pico_follow_times(self):
        """Odoo computes the duration from tracked time: PICO's real times."""
        self.write({"time_mode": "auto"})
        return True

    def action_view_pico_times(self):
        self.ensure_one()
        return self._pico_times_action(self.env.company)

    def _pico_times_action(self, company):
        """PICO's times of this operation behind its median."""
        self.ensure_one()
        since = fields.Datetime.now() - timedelta(days=MEASURED_DAYS)
        newest = self.env["pico.unit.process"].search(
            [
                ("bom_operation_id", "=", self.id),
                ("company_id", "=", company.id),
                ("cycle_time", "!=", False),
                ("completed_at", ">=", fields.Datetime.to_string(since)),
            ],
            order="completed_at desc, id desc",
            limit=pico_operation_time.MEDIAN_TIMES,
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("PICO times of %(operation)s", operation=self.name),
            "res_model": "pico.unit.process",
            "view_mode": "list,pivot,graph",
            "domain": [("id", "in", newest.ids)],
        }

    @api.onchange("pico_process_id")
    def _onchange_pico_process_id(self):
        self.pico_process_auto = False
        self.pico_mapping_note = False

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_engine_fields(self, ENGINE_FIELDS, vals)
        return super().create(vals_list)

    def write(self, vals):
        """A person's choice of process is kept by later syncs. Only the sync
        itself (as superuser, context ``pico_auto_map``) maps automatically."""
        check_engine_fields(self, ENGINE_FIELDS, vals)
        auto = self.env.su and self.env.context.get("pico_auto_map")
        if "pico_process_id" in vals and not auto:
            vals = dict(vals, pico_process_auto=False, pico_mapping_note=False)
        return super().write(vals)

    @api.model
    def _pico_auto_map_processes(self, company):
        """Map unmapped BoM operations to a process of their product, by name or
        part number; several candidates map nothing and leave a note."""
        operations = self.search(
            [
                ("pico_process_id", "=", False),
                ("bom_id.company_id", "in", [company.id, False]),
            ]
        )
        if not operations:
            return
        parents = {op: op.bom_id._pico_operation() for op in operations}
        links = self.env["pico.process"].search(
            [("parent_id", "in", [p.id for p in parents.values() if p])]
        )
        processes_by_parent = defaultdict(lambda: self.env["pico.operation"])
        for link in links:
            processes_by_parent[link.parent_id] |= link.operation_id
        mapped = defaultdict(lambda: self.browse())
        for operation, parent in parents.items():
            candidates = processes_by_parent.get(parent)
            if not candidates:
                continue
            key = operation.name.strip().casefold()
            found = candidates.filtered(
                lambda p, k=key: (
                    p.name.strip().casefold() == k
                    or k in {c.casefold() for c in p._codes()}
                )
            )
            if len(found) == 1:
                mapped[found] |= operation
            elif len(found) > 1:
                operation.sudo().pico_mapping_note = self.env._(
                    "%(count)s PICO processes of %(parent)s answer to "
                    "%(name)s: choose one by hand.",
                    count=len(found),
                    parent=parent.display_name,
                    name=operation.name,
                )
        for process, bom_operations in mapped.items():
            bom_operations.sudo().with_context(pico_auto_map=True).write(
                {
                    "pico_process_id": process.id,
                    "pico_process_auto": True,
                    "pico_mapping_note": False,
                }
            )

    # ------------------------------------------------------ BoM transfer

    @api.depends("bom_id.company_id", "workcenter_id")
    def _compute_pico_wi_ids(self):
        for operation in self:
            company = operation.bom_id.company_id or self.env.company
            prefix = company._pico_wi_prefix()
            operation.pico_wi_process_id = (
                bom_transfer.make_id(prefix, "op", operation.id)
                if operation.id
                else False
            )
            operation.pico_wi_station_id = (
                bom_transfer.make_id(prefix, "wc", operation.workcenter_id.id)
                if operation.workcenter_id.id
                else False
            )

    def _pico_instructions(self):
        """The operation's PICO work instructions, else Odoo's own worksheet."""
        self.ensure_one()
        text = html2plaintext(self.pico_instructions or "").strip()
        return text or compat.operation_worksheet(self) or None
