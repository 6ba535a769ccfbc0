from datetime import timedelta

from odoo.tests import tagged

from pico_sim import generate_operations

from ..services.payload import format_time, parse_events
from .common import TOKEN, PicoTransactionCase


@tagged("post_install", "-at_install")
class TestSync(PicoTransactionCase):
    """setup_pico already ran a full sync of the seed's four operations."""

    def sync(self, company=None, full=False):
        company = company or self.company
        return self.env["pico.operation"]._pico_sync_company(company, full=full)

    def test_full_sync_creates_and_maps(self):
        operations = self.env["pico.operation"].search([])
        self.assertEqual(
            sorted(operations.mapped("pico_id")),
            ["op-control-box", "op-desk-lamp", "op-proc-solder", "op-sensor-kit"],
        )
        self.assertEqual(self.lamp.product_tmpl_id.pico_operation_id, self.op_lamp)
        self.assertEqual(self.sensor.product_tmpl_id.pico_operation_id, self.op_sensor)
        self.assertEqual(self.op_lamp.mapping_state, "mapped")
        self.assertEqual(self.operation("op-control-box").mapping_state, "unmapped")
        driver_line = self.lamp_bom.bom_line_ids.filtered(
            lambda line: line.product_id == self.driver
        )
        self.assertEqual(driver_line.pico_attribute_id.pico_id, "attr-led-driver")
        self.assertFalse((self.lamp_bom.bom_line_ids - driver_line).pico_attribute_id)

    def test_incremental_sync_fetches_only_newer(self):
        self.assertEqual(self.sync(), (0, 0))
        self.sim.upsert_operation(
            {"id": "op-new", "name": "New", "externalId": "NEW-1"}
        )
        self.sim.upsert_operation({"id": "op-sensor-kit", "name": "Sensor Kit 2"})
        created, updated = self.sync()
        self.assertEqual((created, updated), (1, 1))
        self.assertEqual(self.op_sensor.name, "Sensor Kit 2")
        self.assertEqual(self.sync(full=True), (0, 0))

    def test_archived_operation_becomes_inactive_and_is_kept(self):
        self.sim.archive_operation("op-control-box")
        self.sync()
        operation = self.operation("op-control-box")
        self.assertFalse(operation)
        archived = operation.with_context(active_test=False).search(
            [("pico_id", "=", "op-control-box"), ("active", "=", False)]
        )
        self.assertEqual(len(archived), 1)

    def test_ambiguous_codes_link_nothing(self):
        dup = self.make_product("PICO-DUP", "Duplicate")
        self.sim.upsert_operation(
            {"id": "op-dup-1", "name": "Dup 1", "externalId": "PICO-DUP"}
        )
        self.sim.upsert_operation(
            {
                "id": "op-dup-2",
                "name": "Dup 2",
                "externalId": "X",
                "externalCodes": ["X", "PICO-DUP"],
            }
        )
        twin_a = self.make_product("PICO-TWIN", "Twin A")
        twin_b = self.make_product("PICO-TWIN", "Twin B")
        self.sim.upsert_operation(
            {"id": "op-twin", "name": "Twin", "externalId": "PICO-TWIN"}
        )
        self.sync()
        for product in (dup, twin_a, twin_b):
            self.assertFalse(product.product_tmpl_id.pico_operation_id)
        for pico_id in ("op-dup-1", "op-dup-2", "op-twin"):
            operation = self.operation(pico_id)
            self.assertEqual(operation.mapping_state, "ambiguous", pico_id)
            self.assertIn("by hand", operation.mapping_note)

    def test_manual_mapping_is_kept(self):
        self.sensor.product_tmpl_id.pico_operation_id = self.operation("op-control-box")
        self.sync(full=True)
        self.assertEqual(
            self.sensor.product_tmpl_id.pico_operation_id.pico_id, "op-control-box"
        )

    def test_several_companies_have_their_own_catalog(self):
        other = self.env["res.company"].create(
            {"name": "Second Plant", "pico_enabled": True, "pico_api_url": self.sim.url}
        )
        other.sudo().pico_api_token = TOKEN
        self.sync(company=other, full=True)
        Operation = self.env["pico.operation"]
        self.assertEqual(Operation.search_count([("company_id", "=", other.id)]), 4)
        self.assertEqual(
            Operation.search_count([("company_id", "=", self.company.id)]), 4
        )

    def test_cron_survives_pico_down(self):
        self.sim.set_faults(drop_connection=True)
        self.env["pico.operation"]._cron_sync_operations()


@tagged("post_install", "-at_install")
class TestSyncQueries(PicoTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.big_sim = cls.start_simulator(seed=generate_operations(1000))
        cls.big_company = cls.env["res.company"].create(
            {
                "name": "Big Catalog",
                "pico_enabled": True,
                "pico_api_url": cls.big_sim.url,
            }
        )
        cls.big_company.sudo().pico_api_token = TOKEN

    def test_queries_do_not_grow_with_operations(self):
        Operation = self.env["pico.operation"]
        Operation.flush_model()
        before = self.env.cr.sql_log_count
        created, _updated = Operation._pico_sync_company(self.big_company, full=True)
        Operation.flush_model()
        queries = self.env.cr.sql_log_count - before
        self.assertEqual(created, 1000)
        self.assertLess(queries / created, 0.05, f"{queries} queries")
        for op in generate_operations(1000)[:300]:
            self.big_sim.upsert_operation({"id": op["id"], "name": op["name"] + " v2"})
        before = self.env.cr.sql_log_count
        _created, updated = Operation._pico_sync_company(self.big_company)
        Operation.flush_model()
        queries = self.env.cr.sql_log_count - before
        self.assertEqual(updated, 300)
        self.assertLess(
            queries, 25, "a constant number of queries, not one per operation"
        )


@tagged("post_install", "-at_install")
class TestCatalogUpdates(PicoTransactionCase):
    def driver_line(self):
        return self.lamp_bom.bom_line_ids.filtered(
            lambda line: line.product_id == self.driver
        )

    def receive(self, operation):
        messages, _dup = self.env["pico.message"]._receive(
            self.company, parse_events({"data": {"operationsStream": operation}})
        )
        messages._process()
        return messages

    def test_catalog_update_keeps_bom_line_serial_mapping(self):
        attribute = self.driver_line().pico_attribute_id
        self.assertTrue(attribute)
        self.sim.upsert_operation({"id": "op-desk-lamp", "name": "Desk Lamp v2"})
        self.assertEqual(
            self.env["pico.operation"]._pico_sync_company(self.company), (0, 1)
        )
        self.assertEqual(self.op_lamp.name, "Desk Lamp v2")
        self.assertEqual(self.driver_line().pico_attribute_id, attribute)
        self.assertEqual(self.op_lamp.attribute_ids, attribute)

    def test_operation_event_keeps_bom_line_serial_mapping(self):
        attribute = self.driver_line().pico_attribute_id
        operation = self.sim.upsert_operation(
            {"id": "op-desk-lamp", "name": "Desk Lamp v3"}
        )
        self.assertEqual(self.receive(operation).state, "done")
        self.assertEqual(self.op_lamp.name, "Desk Lamp v3")
        self.assertEqual(self.driver_line().pico_attribute_id, attribute)

    def test_older_operation_event_never_overwrites(self):
        stored = self.op_sensor.updated_at
        stale = self.sim.upsert_operation({"id": "op-sensor-kit", "name": "Stale"})
        stale["updatedAt"] = format_time(stored - timedelta(hours=1))
        self.assertEqual(self.receive(stale).state, "done")
        self.assertEqual(self.op_sensor.name, "Sensor Kit")
        self.assertEqual(self.op_sensor.updated_at, stored)

    def test_operation_event_does_not_move_the_sync_watermark(self):
        watermark = self.company.pico_operations_synced_until
        self.assertTrue(watermark)
        operation = self.sim.upsert_operation(
            {"id": "op-sensor-kit", "name": "Sensor Kit v9"}
        )
        self.receive(operation)
        self.assertEqual(self.op_sensor.name, "Sensor Kit v9")
        self.assertEqual(self.company.pico_operations_synced_until, watermark)
