import json

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged
from odoo.tools import mute_logger

from ..models.res_company import SECRET_HEADER, WEBHOOK_ROUTE
from ..services.payload import parse_events
from .common import TOKEN, PicoCommon, PicoTransactionCase


class TwoCompanies:
    """Company A (``company``) and company B (``plant_b``) share one PICO instance
    and the products of the seed (products without a company)."""

    @classmethod
    def setup_plant_b(cls):
        cls.plant_b = cls.env["res.company"].create(
            {"name": "Second Plant", "pico_enabled": True, "pico_api_url": cls.sim.url}
        )
        cls.plant_b.sudo().pico_api_token = TOKEN
        cls.env.user.company_ids |= cls.plant_b
        cls.env["pico.operation"]._pico_sync_company(cls.plant_b, full=True)
        cls.sensor_bom_b = cls.make_bom_in(
            cls.plant_b, cls.sensor, [(cls.screw, 1), (cls.shade, 1)]
        )

    @classmethod
    def make_bom_in(cls, company, product, lines):
        return (
            cls.env["mrp.bom"]
            .with_company(company)
            .create(
                {
                    "product_tmpl_id": product.product_tmpl_id.id,
                    "company_id": company.id,
                    "product_qty": 1,
                    "bom_line_ids": [
                        Command.create({"product_id": p.id, "product_qty": q})
                        for p, q in lines
                    ],
                }
            )
        )

    @classmethod
    def operation_of(cls, company, pico_id):
        return cls.env["pico.operation"].search(
            [("pico_id", "=", pico_id), ("company_id", "=", company.id)]
        )

    def make_mo_in(self, company, product, quantity=1, name=None):
        form = Form(self.env["mrp.production"].with_company(company))
        form.product_id = product
        form.product_qty = quantity
        production = form.save()
        if name:
            production.name = name
        production.action_confirm()
        return production.with_env(self.env)


class PicoTwoCompaniesCase(TwoCompanies, PicoTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_plant_b()


@tagged("post_install", "-at_install")
class TestOrderReferences(PicoTwoCompaniesCase):
    def test_same_mo_name_in_two_companies_makes_two_pico_orders(self):
        self.sensor_bom_b.pico_operation_id = self.operation_of(
            self.plant_b, "op-sensor-kit"
        )
        mo_a = self.make_mo_in(self.company, self.sensor, 2, name="WH/MO/77777")
        mo_b = self.make_mo_in(self.plant_b, self.sensor, 3, name="WH/MO/77777")
        self.assertNotEqual(mo_a.pico_order_ref, mo_b.pico_order_ref)
        self.assertTrue(mo_a.pico_order_ref.endswith("WH/MO/77777"))
        self.dispatch()
        self.assertEqual(self.sim_orders(mo_a), [(0, "open"), (1, "open")])
        self.assertEqual(self.sim_orders(mo_b), [(i, "open") for i in range(3)])

    def test_each_company_has_its_own_prefix_by_default(self):
        prefixes = (self.company | self.plant_b).mapped("pico_order_prefix")
        self.assertEqual(len(set(filter(None, prefixes))), 2)
        uuid = self.env["ir.config_parameter"].get_param("database.uuid")
        self.assertTrue(prefixes[0].startswith(uuid.replace("-", "")[:8]))

    def test_prefix_is_unique_and_shown_in_settings(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.pico_order_prefix, self.company.pico_order_prefix)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.plant_b.pico_order_prefix = self.company.pico_order_prefix
                self.plant_b.flush_recordset()
        with self.assertRaises(ValidationError):
            self.plant_b.pico_order_prefix = "no:colons"

    def test_ignored_deliveries_are_counted_for_30_days(self):
        Count = self.env["pico.foreign.count"]
        Count._count(self.company, ["0badc0de-1", "0badc0de-1", "feedf00d-2"])
        Count._count(self.company, ["0badc0de-1"])
        self.assertEqual(
            Count._summary(self.company)[self.company],
            (4, ["0badc0de-1", "feedf00d-2"]),
        )
        Count.flush_model()
        self.env.cr.execute(
            "UPDATE pico_foreign_count SET day = current_date - 31"
            " WHERE prefix = 'feedf00d-2'"
        )
        self.env.invalidate_all()
        self.assertEqual(
            Count._summary(self.company)[self.company], (3, ["0badc0de-1"])
        )
        Count._gc_foreign_counts()
        self.assertEqual(Count.search([]).mapped("prefix"), ["0badc0de-1"])

    def test_order_reference_never_changes(self):
        production = self.make_mo(self.sensor, 2)
        reference = production.pico_order_ref
        production.product_qty = 3
        self.assertEqual(
            production.pico_unit_ids.mapped("external_order_id"), [reference] * 3
        )
        self.assertEqual(production.pico_order_ref, reference)

    def test_a_prefix_changes_only_while_nothing_is_open_under_it(self):
        production = self.make_mo(self.sensor, 2)
        old_prefix = self.company.pico_order_prefix
        with self.assertRaisesRegex(UserError, "open under"):
            self.company.pico_order_prefix = "RENAMED"
        with self.assertRaisesRegex(UserError, "open under"):
            settings = self.env["res.config.settings"].create(
                {"pico_order_prefix": "RENAMED"}
            )
            settings.execute()
        self.assertEqual(self.company.pico_order_prefix, old_prefix)
        self.dispatch()
        production.action_cancel()  # the cancel waits to be sent: still open
        with self.assertRaisesRegex(UserError, "open under"):
            self.company.pico_order_prefix = "RENAMED"
        self.dispatch()
        self.company.pico_order_prefix = "RENAMED"  # nothing open under the old one
        self.assertEqual(self.make_mo(self.sensor).pico_order_ref[:8], "RENAMED:")
        self.plant_b.pico_order_prefix = "PLANT-B"  # another company: its own units

    def test_unit_key_includes_the_company(self):
        def vals(company):
            operation = self.operation_of(company, "op-sensor-kit")
            return {
                "external_order_id": "SHARED/REF",
                "operation_id": operation.id,
                "operation_pico_id": operation.pico_id,
                "order_index": 0,
                "company_id": company.id,
            }

        Unit = self.env["pico.unit"].sudo()
        Unit.create(vals(self.company))
        Unit.create(vals(self.plant_b))
        Unit.flush_model()
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                Unit.create(vals(self.plant_b))
                Unit.flush_model()

    def test_completion_finds_its_unit_by_the_prefixed_reference(self):
        self.sensor_bom_b.pico_operation_id = self.operation_of(
            self.plant_b, "op-sensor-kit"
        )
        mo_a = self.make_mo_in(self.company, self.sensor, 1, name="WH/MO/88888")
        mo_b = self.make_mo_in(self.plant_b, self.sensor, 1, name="WH/MO/88888")
        self.dispatch()
        self.sim.complete_unit(mo_b.pico_order_ref, "op-sensor-kit", 0)
        self.env["pico.reconciliation"]._reconcile_company(self.plant_b)
        self.assertEqual(mo_b.state, "done")
        self.assertEqual(mo_b.pico_unit_ids.state, "done")
        self.assertEqual(mo_a.state, "confirmed")
        self.assertEqual(mo_a.pico_unit_ids.state, "sent")


@tagged("post_install", "-at_install")
class TestSharedProducts(PicoTwoCompaniesCase):
    def test_each_company_maps_a_shared_product_to_its_own_operation(self):
        op_sensor_b = self.operation_of(self.plant_b, "op-sensor-kit")
        template = self.sensor.product_tmpl_id
        self.assertEqual(
            template.with_company(self.company).pico_operation_id, self.op_sensor
        )
        self.assertEqual(
            template.with_company(self.plant_b).pico_operation_id, op_sensor_b
        )
        self.assertEqual(op_sensor_b.mapping_state, "mapped")
        self.assertEqual(op_sensor_b.product_tmpl_ids, template)
        self.assertEqual(self.op_sensor.product_tmpl_ids, template)

    def test_company_b_confirms_a_product_shared_with_company_a(self):
        op_sensor_b = self.operation_of(self.plant_b, "op-sensor-kit")
        production = self.make_mo_in(self.plant_b, self.sensor, 2)
        self.assertEqual(production.pico_operation_id, op_sensor_b)
        self.assertEqual(production.pico_unit_ids.company_id, self.plant_b)
        self.assertEqual(production.pico_unit_ids.operation_id, op_sensor_b)
        self.dispatch()
        self.assertEqual(self.sim_orders(production), [(0, "open"), (1, "open")])
        self.assertEqual(self.messages(production).state, "done")

    def test_a_bom_only_takes_an_operation_of_its_company(self):
        with self.assertRaises(UserError):
            self.sensor_bom_b.pico_operation_id = self.op_sensor

    def test_a_bom_line_only_takes_an_attribute_of_its_company(self):
        bom_b = self.make_bom_in(self.plant_b, self.lamp, [(self.driver, 1)])
        with self.assertRaises(UserError):
            bom_b.bom_line_ids.pico_attribute_id = self.op_lamp.attribute_ids
        self.env["pico.operation"]._pico_auto_map(self.plant_b)
        op_lamp_b = self.operation_of(self.plant_b, "op-desk-lamp")
        self.assertEqual(bom_b.bom_line_ids.pico_attribute_id, op_lamp_b.attribute_ids)

    def test_unmapping_in_one_company_keeps_the_other(self):
        template = self.sensor.product_tmpl_id
        template.with_company(self.plant_b).pico_operation_id = False
        op_sensor_b = self.operation_of(self.plant_b, "op-sensor-kit")
        self.assertEqual(op_sensor_b.mapping_state, "unmapped")
        self.assertEqual(self.op_sensor.mapping_state, "mapped")
        self.assertEqual(
            template.with_company(self.company).pico_operation_id, self.op_sensor
        )


@tagged("post_install", "-at_install")
class TestCompanyScope(PicoTwoCompaniesCase):
    def unit_vals(self, company, operation, ref="LEGACY/REF"):
        return {
            "external_order_id": ref,
            "operation_id": operation.id,
            "operation_pico_id": operation.pico_id,
            "order_index": 0,
            "company_id": company.id,
        }

    def test_every_pico_model_has_a_company_rule(self):
        models = self.env["ir.model"].search([("model", "=like", "pico.%")])
        for model in models.filtered(lambda m: "company_id" in self.env[m.model]):
            if self.env[model.model]._abstract:
                continue
            rules = self.env["ir.rule"].search([("model_id", "=", model.id)])
            self.assertTrue(
                any("company_ids" in (r.domain_force or "") for r in rules),
                model.model,
            )

    def test_a_unit_only_takes_its_company_operation(self):
        with self.assertRaises(UserError):
            self.env["pico.unit"].sudo().create(
                self.unit_vals(self.plant_b, self.op_sensor)
            )

    def test_a_completion_finds_the_unit_of_its_own_company(self):
        op_sensor_b = self.operation_of(self.plant_b, "op-sensor-kit")
        Unit = self.env["pico.unit"].sudo()
        unit_a = Unit.create(self.unit_vals(self.company, self.op_sensor))
        unit_b = Unit.create(self.unit_vals(self.plant_b, op_sensor_b))
        (event,) = parse_events(
            {
                "externalOrderId": "LEGACY/REF",
                "operation": {"id": "op-sensor-kit"},
                "orderIndex": 0,
                "at": "2026-01-01T10:00:00Z",
                "operationSummary": {"consumedSerials": []},
            }
        )
        adapter = self.env["pico.mrp.adapter"]
        self.assertEqual(adapter._unit_of(self.plant_b, event), unit_b)
        self.assertEqual(adapter._unit_of(self.company, event), unit_a)


@tagged("post_install", "-at_install")
class TestNeighbourDeliveries(TwoCompanies, PicoCommon, HttpCase):
    """PICO delivers every completion to every subscription: company A's webhook
    receives company B's completions too, with A's secret, and the reverse."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_pico()
        cls.setup_plant_b()
        for company in cls.company | cls.plant_b:
            company.pico_public_url = cls.base_url()

    def setUp(self):
        super().setUp()
        self.reset_simulator()
        for company in self.company | self.plant_b:
            company._pico_register_webhooks()

    def post(self, company, event):
        return self.url_open(
            WEBHOOK_ROUTE,
            data=json.dumps({"data": {"operationOrderCompletesStream": event}}),
            headers={
                "Content-Type": "application/json",
                SECRET_HEADER: company._pico_webhook_secret(),
            },
        )

    def inbound(self, company):
        return self.env["pico.message"].search(
            [("direction", "=", "in"), ("company_id", "=", company.id)]
        )

    def attention_activities(self):
        return self.env["mail.activity"].search(
            [
                (
                    "activity_type_id",
                    "=",
                    self.env.ref("pico_mes.mail_activity_pico_attention").id,
                )
            ]
        )

    def ignored(self, company):
        settings = self.env["res.config.settings"].with_company(company).create({})
        return settings.pico_foreign_count, settings.pico_foreign_prefixes

    def test_each_company_ignores_the_other_companys_completions_quietly(self):
        production_a = self.make_mo_in(self.company, self.sensor, 1)
        production_b = self.make_mo_in(self.plant_b, self.sensor, 1)
        self.dispatch()
        self.sim.complete_unit(production_a.pico_order_ref, "op-sensor-kit", 0)
        self.sim.complete_unit(production_b.pico_order_ref, "op-sensor-kit", 0)
        with self.assertNoLogs("odoo.addons.pico_mes", "WARNING"):
            statuses = self.deliver()
        self.assertEqual(statuses, [200] * 4)  # each completion to both webhooks
        self.assertEqual((production_a | production_b).mapped("state"), ["done"] * 2)
        for company, production in (
            (self.company, production_a),
            (self.plant_b, production_b),
        ):
            self.assertEqual(
                self.inbound(company).mapped("order_ref"), [production.pico_order_ref]
            )
        self.assertFalse(self.attention_activities())
        self.assertEqual(
            self.ignored(self.company), (1, self.plant_b.pico_order_prefix)
        )
        self.assertEqual(
            self.ignored(self.plant_b), (1, self.company.pico_order_prefix)
        )

    def test_company_a_secret_never_produces_company_b_order(self):
        production_b = self.make_mo_in(self.plant_b, self.sensor, 1)
        self.dispatch()
        event = self.sim.complete_unit(production_b.pico_order_ref, "op-sensor-kit", 0)
        response = self.post(self.company, event)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.json(), {"accepted": 0, "duplicates": 0, "ignored": 1}
        )
        self.assertEqual(production_b.state, "confirmed")
        self.assertFalse(self.inbound(self.company) | self.inbound(self.plant_b))
        response = self.post(self.plant_b, event)
        self.assertEqual(response.json(), {"accepted": 1, "duplicates": 0})
        self.assertEqual(production_b.state, "done")

    def test_another_databases_completions_are_ignored_quietly(self):
        """Another database's prefix (its uuid), a unit or a process of it."""
        event = {
            "externalOrderId": "0badc0de-1:WH/MO/00007",
            "operation": {"id": "op-sensor-kit"},
            "orderIndex": 0,
            "at": "2026-01-01T10:00:00Z",
            "operationSummary": {"consumedSerials": []},
        }
        process = dict(event, operation={"id": "proc-assembly"})
        with self.assertNoLogs("odoo.addons.pico_mes", "WARNING"):
            for _delivery in range(3):
                for body in (event, process):
                    response = self.post(self.company, body)
                    self.assertEqual(response.status_code, 200)
                    self.assertEqual(response.json()["ignored"], 1)
        self.assertFalse(self.inbound(self.company))
        self.assertFalse(self.attention_activities())
        self.assertEqual(self.ignored(self.company), (6, "0badc0de-1"))
        self.assertEqual(self.ignored(self.plant_b), (0, False))
