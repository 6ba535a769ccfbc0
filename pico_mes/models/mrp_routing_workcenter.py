from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import html2plaintext

from ..access import check_engine_fields
from ..services import bom_transfer

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
        """The operation's text worksheet (its note), or its Google Slide link."""
        self.ensure_one()
        text = html2plaintext(self.note or "").strip()
        if self.worksheet_type == "google_slide" and self.worksheet_google_slide:
            text = "\n".join(filter(None, [text, self.worksheet_google_slide]))
        return text or None
