from odoo import api, fields, models

from .. import compat
from ..services import documents
from ..services.conflicts import insert_new
from ..services.payload import parse_time


class PicoProcess(models.Model):
    """A process of a PICO product: PICO's ``SubOperation`` link, parent -> child.

    The child is itself a ``pico.operation`` (PICO lists products, subassemblies
    and processes alike); BoM operations map to these children.
    """

    _name = "pico.process"
    _description = "PICO Process (sub-operation link)"
    _order = "parent_id, sequence, id"
    _check_company_auto = True

    parent_id = fields.Many2one(
        "pico.operation",
        string="Product Operation",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    operation_id = fields.Many2one(
        "pico.operation",
        string="Process",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    name = fields.Char(related="operation_id.name")
    sequence = fields.Integer(default=10)
    sub_group = fields.Char(readonly=True)
    updated_at = fields.Datetime(string="Updated in PICO", readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True)

    _link_uniq = compat.Constraint(
        "unique(parent_id, operation_id)", "PICO links a process to a product once."
    )

    @api.model
    def _pico_sync_company(self, company):
        """Read every SubOperation link and add the missing ones; never deletes."""
        client = company._pico_client()
        try:
            data = client.execute(documents.SUB_OPERATIONS, {"where": {}})
        finally:
            client.close()
        return self._pico_upsert(company, data.get("subOperations") or [])

    @api.model
    def _pico_upsert(self, company, links):
        operations = self.env["pico.operation"].with_context(active_test=False)
        pico_ids = {link["parentId"] for link in links} | {
            link["subId"] for link in links
        }
        by_pico_id = {
            op.pico_id: op.id
            for op in operations.search(
                [("company_id", "=", company.id), ("pico_id", "in", list(pico_ids))]
            )
        }
        known = {
            (link.parent_id.id, link.operation_id.id): link
            for link in self.search([("company_id", "=", company.id)])
        }
        to_create = []
        for position, link in enumerate(links):
            parent = by_pico_id.get(link["parentId"])
            child = by_pico_id.get(link["subId"])
            if not parent or not child or (parent, child) in known:
                continue
            known[(parent, child)] = True
            to_create.append(
                {
                    "parent_id": parent,
                    "operation_id": child,
                    "sequence": position,
                    "sub_group": link.get("subGroup") or False,
                    "updated_at": link.get("updatedAt")
                    and parse_time(link["updatedAt"]),
                    "company_id": company.id,
                }
            )
        # a sync on another node may add the same links at this moment
        ids = insert_new(self, to_create, key=("parent_id", "operation_id"))
        return self.browse(list(ids.values()))
