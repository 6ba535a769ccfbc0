import logging
from collections import defaultdict
from datetime import timedelta

from psycopg2 import OperationalError

from odoo import api, fields, models

from .. import compat
from ..services import cron_budget, documents
from ..services.conflicts import CONFLICT_CODES, expected_conflicts, insert_new
from ..services.payload import format_time, parse_time

_logger = logging.getLogger(__name__)

CODE_SEPARATOR = "|"
SYNC_CRON = "pico_mes.ir_cron_pico_sync_operations"
RESYNC_DELAY = timedelta(minutes=1)


class PicoOperation(models.Model):
    """PICO's catalog: products, subassemblies and processes that can be ordered;
    the processes under an operation, and BoM operations mapped to them."""

    _name = "pico.operation"
    _description = "PICO Operation"
    _order = "name, id"
    _check_company_auto = True

    pico_id = fields.Char(string="PICO ID", required=True, index=True, readonly=True)
    name = fields.Char(required=True, readonly=True)
    external_id = fields.Char(string="Part Number", index=True, readonly=True)
    external_revision = fields.Char(string="Revision", readonly=True)
    external_codes = fields.Char(
        string="Part Numbers",
        readonly=True,
        help="Every ERP code PICO lists for this operation, separated by '|'.",
    )
    updated_at = fields.Datetime(string="Updated in PICO", readonly=True)
    active = fields.Boolean(default=True, help="Archived in PICO when unchecked.")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda s: s.env.company
    )
    attribute_ids = fields.One2many(
        "pico.operation.attribute", "operation_id", string="Consumed Serials"
    )
    product_tmpl_ids = fields.Many2many(
        "product.template",
        string="Products",
        compute="_compute_product_tmpl_ids",
        help="The products mapped to this operation in its company.",
    )
    mapping_note = fields.Char(
        readonly=True, help="Why automatic mapping needs a person."
    )
    process_link_ids = fields.One2many(
        "pico.process", "parent_id", string="Processes", readonly=True
    )
    mapping_state = fields.Selection(
        [
            ("mapped", "Mapped"),
            ("unmapped", "Not mapped"),
            ("ambiguous", "Needs a person"),
        ],
        compute="_compute_mapping_state",
        store=True,
        index=True,
    )

    _pico_id_company_uniq = compat.Constraint(
        "unique(pico_id, company_id)", "A PICO operation is synced once per company."
    )

    def _compute_product_tmpl_ids(self):
        templates = self._pico_mapped_templates()
        for operation in self:
            operation.product_tmpl_ids = self.env["product.template"].browse(
                templates.get(operation.id, [])
            )

    @api.depends("mapping_note")
    def _compute_mapping_state(self):
        """Also recomputed when a product's (company-dependent) mapping changes."""
        mapped = self._pico_mapped_templates()
        for operation in self:
            if operation.id in mapped:
                operation.mapping_state = "mapped"
            elif operation.mapping_note:
                operation.mapping_state = "ambiguous"
            else:
                operation.mapping_state = "unmapped"

    def _pico_mapped_templates(self):
        """{operation id: template ids}, each read in the operation's company."""
        result = defaultdict(list)
        Template = self.env["product.template"].sudo()
        for company in self.company_id:
            operations = self.filtered(lambda o, c=company: o.company_id == c)
            templates = Template.with_company(company).search(
                [("pico_operation_id", "in", operations.ids)]
            )
            for template in templates:
                result[template.pico_operation_id.id].append(template.id)
        return result

    @api.model
    def _pico_refresh_mapping_state(self, operations):
        if operations:
            self.env.add_to_compute(self._fields["mapping_state"], operations.sudo())

    @api.depends("name", "external_id")
    def _compute_display_name(self):
        for operation in self:
            code = operation.external_id
            operation.display_name = (
                f"[{code}] {operation.name}" if code else operation.name
            )

    def _codes(self):
        """Every ERP code of this operation: externalId and externalCodes."""
        self.ensure_one()
        codes = set(filter(None, (self.external_codes or "").split(CODE_SEPARATOR)))
        if self.external_id:
            codes.add(self.external_id)
        return codes

    # ------------------------------------------------------------------ sync

    @api.model
    def _pico_sync_company(self, company, full=False):
        """Fetch operations from PICO and upsert them, then their processes;
        return (created, updated)."""
        since = False if full else company.pico_operations_synced_until
        where = {"updatedAt": {"_gte": format_time(since)}} if since else {}
        client = company._pico_client()
        try:
            data = client.execute(documents.OPERATIONS, {"where": where})
        finally:
            client.close()
        operations = data.get("operations") or []
        created, updated = self._pico_upsert(company, operations)
        self._pico_move_watermark(company, operations)
        # BoM operations are mapped once the process links are known, not before.
        self._pico_auto_map(company, map_processes=False)
        self.env["pico.process"]._pico_sync_company(company)
        self.env["mrp.routing.workcenter"]._pico_auto_map_processes(company)
        return created, updated

    @api.model
    def _pico_move_watermark(self, company, operations):
        """Only a sync moves it: a webhook event may overtake older, unseen changes."""
        newest = max(
            (parse_time(op["updatedAt"]) for op in operations),
            default=company.pico_operations_synced_until,
        )
        if newest and newest != company.pico_operations_synced_until:
            company.sudo().pico_operations_synced_until = max(
                newest, company.pico_operations_synced_until or newest
            )

    @api.model
    def _pico_upsert(self, company, operations):
        """Insert new and update changed operations, in a constant number of queries.

        ``operations`` are PICO ``Operation`` objects. An archived operation becomes
        inactive; nothing is ever deleted. Data older than what is stored (by
        ``updatedAt``) changes nothing: events may arrive out of order.
        """
        known = self._pico_known(company, [op["id"] for op in operations])
        to_create, to_update = [], []
        for operation in operations:
            values = self._pico_values(operation)
            existing = known.get(operation["id"])
            if existing is None:
                to_create.append((values, operation))
                known[operation["id"]] = (None, values["updated_at"])
            elif existing[0] and (
                not existing[1] or values["updated_at"] > existing[1]
            ):
                to_update.append((existing[0], values, operation))
        created = self._pico_create(company, to_create)
        self._pico_update(to_update)
        return len(created), len(to_update)

    @api.model
    def _pico_known(self, company, pico_ids):
        self.flush_model()
        self.env.cr.execute(
            "SELECT pico_id, id, updated_at FROM pico_operation"
            " WHERE company_id = %s AND pico_id = ANY(%s)",
            (company.id, pico_ids),
        )
        return {
            pico_id: (op_id, updated)
            for pico_id, op_id, updated in self.env.cr.fetchall()
        }

    @api.model
    def _pico_values(self, operation):
        codes = [c for c in operation.get("externalCodes") or [] if c]
        return {
            "pico_id": operation["id"],
            "name": operation.get("name") or operation["id"],
            "external_id": operation.get("externalId") or False,
            "external_revision": operation.get("externalRevision") or False,
            "external_codes": CODE_SEPARATOR.join(codes) or False,
            "updated_at": parse_time(operation["updatedAt"]),
            "active": not operation.get("archivedAt"),
        }

    @api.model
    def _pico_create(self, company, to_create):
        """One INSERT; the same operation created at the same moment by another
        worker (a sync on another node, PICO's webhook) is an expected conflict
        that the caller retries, never a duplicate."""
        if not to_create:
            return self.browse()
        ids = insert_new(
            self,
            [
                dict(values, company_id=company.id, mapping_state="unmapped")
                for values, _op in to_create
            ],
            key=("pico_id", "company_id"),
        )
        pairs = [(ids[(v["pico_id"], company.id)], op) for v, op in to_create]
        self._pico_create_attributes(pairs)
        return self.browse([op_id for op_id, _op in pairs])

    @api.model
    def _pico_update(self, to_update):
        """One UPDATE for all changed operations, then their attributes anew."""
        if not to_update:
            return
        self.flush_model()
        rows = [
            (
                op_id,
                v["name"],
                v["external_id"] or None,
                v["external_revision"] or None,
                v["external_codes"] or None,
                v["updated_at"],
                v["active"],
            )
            for op_id, v, _op in to_update
        ]
        values_sql = ", ".join(["(%s, %s, %s, %s, %s, %s::timestamp, %s)"] * len(rows))
        self.env.cr.execute(
            f"""UPDATE pico_operation AS o SET name = v.name,
                   external_id = v.external_id, external_revision = v.revision,
                   external_codes = v.codes, updated_at = v.updated_at,
                   active = v.active, write_date = now() AT TIME ZONE 'UTC',
                   write_uid = %s
               FROM (VALUES {values_sql})
                   AS v(id, name, external_id, revision, codes, updated_at, active)
               WHERE o.id = v.id""",  # noqa: S608 -- placeholders only
            [self.env.uid] + [value for row in rows for value in row],
        )
        self.invalidate_model()
        self._pico_sync_attributes((op_id, op) for op_id, _v, op in to_update)

    @api.model
    def _pico_create_attributes(self, pairs):
        self._pico_sync_attributes(pairs)

    @api.model
    def _pico_sync_attributes(self, pairs):
        """Update attributes in place by (operation, PICO id), so that BoM lines
        keep their links; create new ones; delete only those PICO dropped."""
        pairs = list(pairs)
        wanted = {
            (op_id, attribute["id"]): attribute.get("externalId") or False
            for op_id, operation in pairs
            for attribute in operation.get("consumedSerials") or []
            if attribute.get("id")
        }
        Attribute = self.env["pico.operation.attribute"]
        existing = {
            (a.operation_id.id, a.pico_id): a
            for a in Attribute.search(
                [("operation_id", "in", [op_id for op_id, _op in pairs])]
            )
        }
        dropped = Attribute
        for key, attribute in existing.items():
            if key not in wanted:
                dropped |= attribute
            elif attribute.external_id != wanted[key]:
                attribute.external_id = wanted[key]
        dropped.unlink()
        Attribute.create(
            [
                {"operation_id": op_id, "pico_id": pico_id, "external_id": code}
                for (op_id, pico_id), code in wanted.items()
                if (op_id, pico_id) not in existing
            ]
        )

    # --------------------------------------------------------------- mapping

    @api.model
    def _pico_auto_map(self, company, map_processes=True):
        """Link unmapped products, and BoM lines to attributes, by internal reference;
        then BoM operations to processes (unless ``map_processes`` is False), check
        the BoMs' mappings and map what a BoM transfer created.

        A code that designates several operations, or several products, links
        nothing and marks the operations as needing a person.
        """
        operations = self.search([("company_id", "=", company.id)])
        ops_by_code = defaultdict(set)
        for operation in operations:
            for code in operation._codes():
                ops_by_code[code].add(operation.id)
        templates_by_code = self._pico_unmapped_templates(company, list(ops_by_code))
        operations.filtered("mapping_note").mapping_note = False
        notes, links = {}, defaultdict(list)
        for code, template_ids in templates_by_code.items():
            op_ids = ops_by_code[code]
            if len(op_ids) > 1 or len(template_ids) > 1:
                for op_id in op_ids:
                    notes[op_id] = self.env._(
                        "Code %(code)s matches %(ops)s operations and %(products)s "
                        "products: map it by hand.",
                        code=code,
                        ops=len(op_ids),
                        products=len(template_ids),
                    )
                continue
            links[next(iter(op_ids))].append(next(iter(template_ids)))
        for op_id, note in notes.items():
            self.browse(op_id).mapping_note = note
        templates = self.env["product.template"].with_company(company)
        for op_id, template_ids in links.items():
            if op_id not in notes:
                templates.browse(template_ids).pico_operation_id = op_id
        self.env["mrp.bom.line"]._pico_auto_map_attributes(company)
        if map_processes:
            self.env["mrp.routing.workcenter"]._pico_auto_map_processes(company)
        self.env["mrp.bom"]._pico_check_company_mappings(company)
        self.env["mrp.bom"]._pico_map_transferred(company)

    @api.model
    def _pico_unmapped_templates(self, company, codes):
        """{internal reference: {template ids}} of products not yet mapped."""
        if not codes:
            return {}
        products = (
            self.env["product.product"]
            .with_company(company)
            .search_read(
                [
                    ("default_code", "in", codes),
                    ("product_tmpl_id.pico_operation_id", "=", False),
                    ("company_id", "in", [company.id, False]),
                ],
                ["default_code", "product_tmpl_id"],
            )
        )
        result = defaultdict(set)
        for product in products:
            result[product["default_code"]].add(product["product_tmpl_id"][0])
        return result

    # -------------------------------------------------------------- actions

    @api.model
    def _cron_sync_operations(self):
        """Sync every PICO-enabled company, each in its own transaction; a PICO
        outage is logged, never raised. Another worker changing the same
        catalog at this moment (a sync on another node, PICO's webhook) is an
        expected conflict: that company is synced again by a later run. Under
        the cron runner, the companies past the run's time budget are left to
        the next run."""
        budgeted = bool(self.env.context.get("ir_cron_progress_id"))
        deadline = cron_budget.Deadline.for_this_run() if budgeted else None
        companies = self.env["res.company"]._pico_live_companies()
        cron = self.env.ref(SYNC_CRON).sudo()
        for position, company in enumerate(companies):
            if position and budgeted and deadline.passed():
                cron._trigger()
                break
            try:
                with expected_conflicts(), self.env.cr.savepoint():
                    self.with_company(company)._pico_sync_company(company)
            except OperationalError as exc:
                if exc.pgcode not in CONFLICT_CODES:
                    raise
                _logger.info(
                    "PICO operation sync of %s met a concurrent change; it runs again",
                    company.name,
                )
                cron._trigger(at=fields.Datetime.now() + RESYNC_DELAY)
            except Exception as exc:  # noqa: BLE001 -- logged, never raised
                _logger.warning(
                    "PICO operation sync failed for company %s: %s", company.name, exc
                )
            self.env["pico.message"]._commit_progress()
        if budgeted:
            compat.cron_progress(self.env, len(companies), 0)
