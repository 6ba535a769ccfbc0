from graphql import build_schema

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from pico_sim import work_instructions
from pico_sim.schema import SDL_PATH as SCHEMA

from ..services import bom_transfer
from ..services.payload import parse_events
from .common import PicoTransactionCase, add_groups, make_user, production_family


@tagged("post_install", "-at_install")
class TestBomTransfer(PicoTransactionCase):
    """Send to PICO: a BoM becomes a PICO product workflow that can be built."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_groups(cls.env.user, "mrp.group_mrp_routings")
        cls.bench, cls.tester = cls.env["mrp.workcenter"].create(
            [{"name": "Assembly Bench"}, {"name": "Test Rig"}]
        )
        cls.chair = cls.make_product("WI-CHAIR", "Chair")
        cls.chair_bom = cls.make_bom(cls.chair, [(cls.screw, 2), (cls.shade, 1)])
        cls.chair_bom.operation_ids = [
            Command.create(
                {
                    "name": "Fit the shade",
                    "workcenter_id": cls.bench.id,
                    "sequence": 1,
                    "note": "<p>Screw the shade <b>tight</b>.</p>",
                }
            ),
            Command.create(
                {"name": "Test", "workcenter_id": cls.tester.id, "sequence": 2}
            ),
        ]
        cls.company.pico_allow_bom_transfer = True

    def setUp(self):
        super().setUp()
        self.company._pico_check_bom_transfer()

    def send(self, bom=None):
        bom = bom or self.chair_bom
        action = bom.action_pico_send()
        self.assertEqual(action["res_model"], "pico.bom.transfer.wizard")
        wizard = (
            self.env[action["res_model"]].with_context(**action["context"]).create({})
        )
        self.assertIn(bom.pico_wi_product_id, wizard.summary)
        wizard.action_confirm()
        self.dispatch()

    def test_ids_follow_picos_rule_and_are_shown(self):
        ids = [self.chair_bom.pico_wi_product_id]
        ids += self.chair_bom.operation_ids.mapped("pico_wi_process_id")
        ids += self.chair_bom.operation_ids.mapped("pico_wi_station_id")
        for pico_id in ids:
            self.assertRegex(pico_id, r"^[a-z0-9_]{3,50}$")
        self.assertEqual(len(set(ids)), 5)
        self.assertTrue(ids[0].endswith(f"_bom_{self.chair_bom.id}"))

    def test_send_sync_map_order_build_and_send_again(self):
        self.send()
        messages = self.chair_bom.pico_transfer_message_ids
        self.assertEqual(len(messages), 5)  # 2 stations, 2 processes, 1 product
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertEqual(self.chair_bom.pico_transfer_state, "done")
        fit, test = self.chair_bom.operation_ids.sorted("sequence")
        process = work_instructions.definition(
            self.sim, "process", fit.pico_wi_process_id
        )
        self.assertEqual(
            process["steps"][0]["instructionText"]["text"], "Screw the shade *tight*."
        )
        product = work_instructions.definition(
            self.sim, "product", self.chair_bom.pico_wi_product_id
        )
        self.assertEqual(product["partNumber"], "WI-CHAIR")
        self.assertEqual(
            product["processes"],
            [
                {"processId": fit.pico_wi_process_id, "dependsOn": []},
                {
                    "processId": test.pico_wi_process_id,
                    "dependsOn": [fit.pico_wi_process_id],
                },
            ],
        )
        station = work_instructions.definition(
            self.sim, "station", fit.pico_wi_station_id
        )
        self.assertEqual(station["name"], "Assembly Bench")

        self.env["pico.operation"]._pico_sync_company(self.company)
        operation = self.operation(self.chair_bom.pico_wi_product_id)
        self.assertEqual(self.chair_bom.pico_operation_id, operation)
        self.assertEqual(self.chair.product_tmpl_id.pico_operation_id, operation)
        self.assertEqual(fit.pico_process_id, self.operation(fit.pico_wi_process_id))
        self.assertEqual(test.pico_process_id.name, "Test")

        production = self.make_mo(self.chair, 2)
        self.dispatch()
        self.assertEqual(self.sim_orders(production), [(0, "open"), (1, "open")])
        for index in range(2):
            self.sim.complete_unit(production.pico_order_ref, operation.pico_id, index)
        self.env["pico.reconciliation"]._reconcile_company(self.company)
        family = production_family(production)
        self.assertEqual(set(family.mapped("state")), {"done"})
        self.assertEqual(self.stock(self.chair), 2)

        fit.write({"name": "Fit and glue the shade", "note": "<p>Glue first.</p>"})
        operations_before = len(self.sim.operations())
        pico_operations_before = self.env["pico.operation"].search_count([])
        self.send()
        self.assertEqual(len(self.chair_bom.pico_transfer_message_ids), 10)
        self.assertEqual(self.chair_bom.pico_transfer_state, "done")
        self.assertEqual(len(self.sim.operations()), operations_before)
        process = work_instructions.definition(
            self.sim, "process", fit.pico_wi_process_id
        )
        self.assertEqual(process["name"], "Fit and glue the shade")
        self.assertEqual(process["steps"][0]["instructionText"]["text"], "Glue first.")
        self.env["pico.operation"]._pico_sync_company(self.company)
        self.assertEqual(
            self.env["pico.operation"].search_count([]), pico_operations_before
        )
        self.assertEqual(fit.pico_process_id.name, "Fit and glue the shade")
        self.assertEqual(self.chair_bom.pico_operation_id, operation)

    def test_calls_go_in_order_and_wait_behind_a_failure(self):
        self.sim.set_faults(http_status=503, count=1)
        self.chair_bom.action_pico_send()
        self.env["pico.bom.transfer.wizard"].create(
            {"bom_ids": [Command.set(self.chair_bom.ids)]}
        ).action_confirm()
        self.dispatch()
        messages = self.chair_bom.pico_transfer_message_ids.sorted("id")
        self.assertEqual(messages.mapped("state"), ["pending"] * 5)
        self.assertEqual(messages[0].attempts, 1)
        self.assertIn("503", messages[0].error)
        self.assertEqual(messages[1:].mapped("attempts"), [0] * 4)
        self.assertEqual(self.chair_bom.pico_transfer_state, "pending")
        product_id = self.chair_bom.pico_wi_product_id
        self.assertIsNone(work_instructions.definition(self.sim, "product", product_id))
        messages.next_attempt_at = "2000-01-01"
        self.dispatch()
        self.assertEqual(set(messages.mapped("state")), {"done"})

    def test_only_pico_managers_with_the_company_setting_may_send(self):
        pico_manager = make_user(
            self.env, "bom-pico-manager", "pico_mes.group_pico_manager",
            email="bom-pico-manager@example.com",
        )  # fmt: skip
        mrp_admin = make_user(self.env, "bom-mrp-admin", "mrp.group_mrp_manager")
        for user in (self.mrp_user, mrp_admin):
            with self.assertRaises(AccessError, msg=user.login):
                self.chair_bom.with_user(user).action_pico_send()
            with self.assertRaises(AccessError, msg=user.login):
                self.chair_bom.with_user(user)._pico_queue_transfer()
        self.assertFalse(self.chair_bom.pico_transfer_message_ids)
        # A PICO Manager, who may not edit BoMs, sends one.
        bom = self.chair_bom.with_user(pico_manager)
        action = bom.action_pico_send()
        wizard = bom.env[action["res_model"]].with_context(**action["context"])
        wizard.create({}).action_confirm()
        self.assertEqual(len(self.chair_bom.pico_transfer_message_ids), 5)
        self.assertTrue(self.chair_bom.pico_transferred)
        self.company.pico_allow_bom_transfer = False
        with self.assertRaisesRegex(UserError, "not allowed"):
            bom.action_pico_send()
        self.assertFalse(self.chair_bom.pico_transfer_offered)
        self.company.pico_allow_bom_transfer = True
        with self.assertRaisesRegex(UserError, "no operations"):
            self.sensor_bom.with_user(pico_manager).action_pico_send()

    def test_unreadable_live_schema_disables_the_transfer(self):
        self.sim.set_faults(graphql_error="introspection is disabled", count=1)
        problems = self.company._pico_check_bom_transfer()
        self.assertIn("nothing is guessed", problems[0])
        self.assertEqual(self.company.pico_bom_transfer_check, "blocked")
        self.assertIn("differs", self.chair_bom.pico_transfer_blocker)
        with self.assertRaisesRegex(UserError, "introspection is disabled"):
            self.chair_bom.action_pico_send()
        settings = self.env["res.config.settings"].create({})
        result = settings.action_pico_test_connection()
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(self.company.pico_bom_transfer_check, "ok")
        self.assertFalse(self.chair_bom.pico_transfer_blocker)

    def test_schema_check_names_each_difference(self):
        text = SCHEMA.read_text()
        self.assertEqual(bom_transfer.schema_problems(build_schema(text)), [])
        changed = text.replace("  partNumber: String\n", "  partNo: String!\n")
        problems = bom_transfer.schema_problems(build_schema(changed))
        self.assertIn(
            "ProductDefInput.partNo is String! in PICO, missing in our schema.",
            problems,
        )
        self.assertIn(
            "ProductDefInput.partNumber is missing in PICO, String in our schema.",
            problems,
        )
        dropped = text.replace(
            "  stationCreate(input: StationCreateInput!): Boolean\n",
            "  stationCreateV2(input: StationCreateInput!): Boolean\n",
        )
        self.assertIn(
            "PICO has no mutation stationCreate.",
            bom_transfer.schema_problems(build_schema(dropped)),
        )

    def transfer_messages(self, bom):
        return bom.pico_transfer_message_ids.sorted("id")

    def transfer_state(self, bom):
        bom.invalidate_recordset(["pico_transfer_state"])  # as a new request reads it
        return bom.pico_transfer_state

    def test_false_answer_fails_and_the_bom_is_never_sent(self):
        self.sim.set_faults(answer="false", count=1)
        self.send()
        messages = self.transfer_messages(self.chair_bom)
        self.assertEqual(messages.mapped("state"), ["failed"] + ["pending"] * 4)
        self.assertIn("stationCreate with false", messages[0].error)
        self.assertEqual(self.transfer_state(self.chair_bom), "failed")

        messages[0].action_retry()
        self.dispatch()
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertEqual(self.transfer_state(self.chair_bom), "done")

        self.sim.set_faults(answer="false", count=1)
        self.send()
        latest = self.transfer_messages(self.chair_bom) - messages
        self.assertEqual(latest[0].state, "failed")
        self.env["pico.message.discard"].with_context(active_ids=latest[0].ids).create(
            {"reason": "the station exists"}
        ).action_discard()
        self.dispatch()
        self.assertEqual(latest.mapped("state"), ["discarded"] + ["done"] * 4)
        self.assertEqual(self.transfer_state(self.chair_bom), "failed")  # not Sent
        self.send()
        self.assertEqual(self.transfer_state(self.chair_bom), "done")

    def test_null_or_no_data_is_retried_then_fails_never_sent(self):
        for answer in ("null", "no_data"):
            with self.subTest(answer=answer):
                bom = self.chair_bom.copy()
                self.sim.set_faults(answer=answer)
                self.send(bom)
                messages = self.transfer_messages(bom)
                self.assertEqual(messages.mapped("state"), ["pending"] * 5)
                self.assertEqual(messages[0].attempts, 1)
                self.assertIn(
                    "null" if answer == "null" else "without data", messages[0].error
                )
                self.assertEqual(self.transfer_state(bom), "pending")
                messages[0].write(
                    {
                        "retrying_since": fields.Datetime.subtract(
                            fields.Datetime.now(), hours=25
                        ),
                        "next_attempt_at": "2000-01-01",
                    }
                )
                self.dispatch()
                self.assertEqual(messages[0].state, "failed")
                self.assertEqual(self.transfer_state(bom), "failed")
                self.sim.clear_faults()
                messages[0].action_retry()
                self.dispatch()
                self.assertEqual(set(messages.mapped("state")), {"done"})
                self.assertEqual(self.transfer_state(bom), "done")

    def test_hand_made_mapping_of_a_sent_bom_is_kept(self):
        """As for any BoM: syncs and operation webhooks keep what a person chose."""
        Operation = self.env["pico.operation"]
        self.send()
        Operation._pico_sync_company(self.company)
        fit, test = self.chair_bom.operation_ids.sorted("sequence")
        sent = self.operation(self.chair_bom.pico_wi_product_id)
        self.assertEqual(self.chair_bom.pico_operation_id, sent)
        self.assertTrue(fit.pico_process_auto)

        self.chair_bom.pico_operation_id = self.op_sensor
        fit.pico_process_id = test.pico_process_id
        self.assertFalse(fit.pico_process_auto)

        def assert_kept():
            self.assertEqual(self.chair_bom.pico_operation_id, self.op_sensor)
            self.assertEqual(fit.pico_process_id, test.pico_process_id)
            self.assertFalse(fit.pico_process_auto)

        Operation._pico_sync_company(self.company, full=True)
        assert_kept()
        changed = self.sim.upsert_operation({"id": sent.pico_id, "name": "Chair v2"})
        messages, _duplicates = self.env["pico.message"]._receive(
            self.company, parse_events({"data": {"operationsStream": changed}})
        )
        messages._process()
        self.assertEqual(messages.state, "done")
        self.assertEqual(sent.name, "Chair v2")
        assert_kept()
