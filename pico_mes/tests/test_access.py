"""Who may do what, over JSON-RPC (``/jsonrpc``, ``execute_kw``, a password on
every call) as real users on Odoo's HTTP stack; never as the administrator.

The roles of the README's table: Manufacturing User, Manufacturing Administrator,
Inventory User, PICO User, PICO Manager, and the Settings administrator for what
lives on the settings page. Each action the table gives a role works for it;
every other role gets an AccessError and nothing changes.
"""

from odoo import Command, fields
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..services.payload import parse_events
from .common import TOKEN, PicoCommon, make_user, production_family
from .rpc import JsonRpcMixin

ROLES = {
    "Manufacturing User": ("rpc-mrp-user", "mrp.group_mrp_user"),
    "Manufacturing Administrator": ("rpc-mrp-admin", "mrp.group_mrp_manager"),
    "Inventory User": ("rpc-stock-user", "stock.group_stock_user"),
    "PICO User": ("rpc-pico-user", "pico_mes.group_pico_user"),
    "PICO Manager": ("rpc-pico-manager", "pico_mes.group_pico_manager"),
    "Settings Administrator": ("rpc-settings-admin", "base.group_system"),
}
MRP_USER = "rpc-mrp-user"
MRP_ADMIN = "rpc-mrp-admin"
PICO_MANAGER = "rpc-pico-manager"
SETTINGS_ADMIN = "rpc-settings-admin"
# Odoo logs each refused RPC call; the refusal is what these tests check.
QUIET = ("odoo.http", "odoo.service.model", "odoo.addons.base.models.ir_rule")


class AccessCase(JsonRpcMixin, PicoCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_pico()
        for login, group in ROLES.values():
            make_user(cls.env, login, group, email=f"{login}@example.com")
        cls.planner = make_user(
            cls.env, "rpc-planner", "mrp.group_mrp_user", email="planner@example.com"
        )

    def setUp(self):
        super().setUp()
        self.reset_simulator()

    def roles(self, allowed=()):
        """(role, login, allowed) for every role, each in its own subtest."""
        for role, (login, _group) in ROLES.items():
            yield role, login, login in allowed

    def receive(self, event):
        messages, _duplicates = self.env["pico.message"]._receive(
            self.company, parse_events(event)
        )
        messages._process()
        return messages

    def sent_sensors(self, quantity=1, user=None):
        production = self.make_mo(self.sensor, quantity, confirm=False)
        if user:
            production.user_id = user
        production.action_confirm()
        self.dispatch()
        return production

    def started_unit(self):
        """A unit PICO has started: a real work-in-progress event from the floor."""
        production = self.sent_sensors()
        ref = production.pico_order_ref
        self.sim.start_unit(ref, "op-sensor-kit", 0)
        self.receive(self.sim.complete_wip(ref, "op-sensor-kit", 0, "op-proc-solder"))
        unit = production.pico_unit_ids
        self.assertEqual(unit.state, "in_progress")
        return unit

    def failed_order(self):
        """An order PICO refused for good: a failed message and an error on the MO."""
        self.sim.set_faults(graphql_error="PICO refuses this order", count=1)
        production = self.sent_sensors()
        self.sim.clear_faults()
        message = self.messages(production)
        self.assertEqual(message.state, "failed")
        self.assertTrue(production.pico_error)
        return production, message

    def create_and_call(self, login, model, method, values=None, context=None):
        """What a form's button does: save the (wizard) record, call the method."""
        record_id = self.rpc(
            login, model, "create", values or {}, context=context or {}
        )
        return self.rpc(login, model, method, [record_id], context=context or {})


@tagged("post_install", "-at_install")
class TestEngineOwnedFields(AccessCase):
    """Fields only the connector sets: no role writes them, whatever the path."""

    @mute_logger(*QUIET)
    def test_no_role_writes_the_engine_fields_of_an_order(self):
        production, _message = self.failed_order()
        unit = production.pico_unit_ids
        before = production.read(
            ["pico_order_ref", "pico_operation_id", "pico_error", "pico_note"]
        )[0]
        attempts = [
            ("write", {"pico_order_ref": "HIJACKED:WH/MO/1"}),
            ("write", {"pico_operation_id": self.op_lamp.id}),
            ("write", {"pico_error": False}),
            ("write", {"pico_note": "all fine"}),
            ("write", {"pico_state": "done"}),
            ("write", {"pico_unit_ids": [Command.unlink(unit.id)]}),
            ("web_save", {"pico_error": False, "pico_state": "sent"}),
        ]
        for role, login, _allowed in self.roles():
            for method, values in attempts:
                with self.subTest(role=role, method=method, values=values):
                    kwargs = {"specification": {}} if method == "web_save" else {}
                    self.assert_refused(
                        login,
                        "mrp.production",
                        method,
                        production.ids,
                        values,
                        **kwargs,
                    )
        production.invalidate_recordset()
        self.assertEqual(production.read(list(before))[0], before)
        self.assertEqual(production.pico_state, "error")
        self.assertEqual(unit.production_id, production)

    @mute_logger(*QUIET)
    def test_no_role_chooses_the_reference_of_a_new_order(self):
        values = {"product_id": self.sensor.id, "product_qty": 1}
        for role, login, _allowed in self.roles():
            with self.subTest(role=role):
                self.assert_refused(
                    login,
                    "mrp.production",
                    "create",
                    dict(values, pico_order_ref="HIJACKED:1"),
                )
        draft = self.make_mo(self.sensor, 1, confirm=False)
        self.assert_refused(
            MRP_USER, "mrp.production", "copy", draft.ids, {"pico_order_ref": "X:2"}
        )
        # a context default is no way round: the connector sets the reference
        production_id = self.rpc(
            MRP_USER,
            "mrp.production",
            "create",
            values,
            context={"default_pico_order_ref": "HIJACKED:3", "default_pico_error": "x"},
        )
        self.rpc(MRP_USER, "mrp.production", "action_confirm", [production_id])
        production = self.env["mrp.production"].browse(production_id)
        self.assertEqual(
            production.pico_order_ref, self.company._pico_order_ref(production.name)
        )
        self.assertFalse(production.pico_error)

    @mute_logger(*QUIET)
    def test_no_role_writes_the_engine_fields_of_boms_operations_and_companies(self):
        bench = self.env["mrp.workcenter"].create({"name": "Bench"})
        self.sensor_bom.operation_ids = [
            Command.create({"name": "Solder", "workcenter_id": bench.id})
        ]
        operation = self.sensor_bom.operation_ids
        solder = self.operation("op-proc-solder")
        operation.with_context(pico_auto_map=True).write(
            {"pico_process_id": solder.id, "pico_process_auto": True}
        )
        attempts = [
            ("mrp.bom", self.sensor_bom, {"pico_transferred": True}),
            ("mrp.routing.workcenter", operation, {"pico_process_auto": False}),
            ("mrp.routing.workcenter", operation, {"pico_mapping_note": "by hand"}),
            ("res.company", self.company, {"pico_bom_transfer_check": "ok"}),
            ("res.company", self.company, {"pico_operations_synced_until": False}),
        ]
        synced_until = self.company.pico_operations_synced_until
        for role, login, _allowed in self.roles():
            for model, record, values in attempts:
                with self.subTest(role=role, model=model, values=values):
                    self.assert_refused(login, model, "write", record.ids, values)
        self.assertFalse(self.sensor_bom.pico_transferred)
        self.assertTrue(operation.pico_process_auto)
        self.assertEqual(self.company.pico_bom_transfer_check, "unchecked")
        self.assertEqual(self.company.pico_operations_synced_until, synced_until)
        # Mapping a BoM operation edits the BoM: a Manufacturing Administrator
        # does it by hand, and the sync keeps that choice, even when the request
        # claims to be the sync's own mapping.
        for login in (MRP_USER, PICO_MANAGER):
            self.assert_refused(
                login,
                "mrp.routing.workcenter",
                "write",
                operation.ids,
                {"pico_process_id": solder.id},
            )
        self.rpc(
            MRP_ADMIN,
            "mrp.routing.workcenter",
            "write",
            operation.ids,
            {"pico_process_id": solder.id},
            context={"pico_auto_map": True},
        )
        self.assertEqual(operation.pico_process_id, solder)
        self.assertFalse(operation.pico_process_auto)

    def test_no_role_marks_a_time_log_as_the_expected_duration_stand_in(self):
        """The stand-in log a PICO time replaces is the connector's to mark."""
        workcenter = self.env["mrp.workcenter"].create({"name": "Bench"})
        loss = self.env["mrp.workcenter.productivity.loss"].search(
            [("loss_type", "=", "productive")], limit=1
        )
        values = {
            "workcenter_id": workcenter.id,
            "loss_id": loss.id,
            "date_start": "2026-03-02 08:00:00",
            "date_end": "2026-03-02 08:10:00",
        }
        log = self.env["mrp.workcenter.productivity"].create(values)
        Log = "mrp.workcenter.productivity"
        for role, login, _allowed in self.roles():
            with self.subTest(role=role):
                marked = {"pico_placeholder": True}
                self.assert_refused(login, Log, "write", log.ids, marked)
                self.assert_refused(login, Log, "create", dict(values, **marked))
        self.assertFalse(self.env[Log].search_count([("pico_placeholder", "=", True)]))


@tagged("post_install", "-at_install")
class TestManufacturingUserRunsPicoOrders(AccessCase):
    """The guard lets Odoo's flows and the connector's own writes through."""

    @mute_logger(*QUIET)
    def test_confirm_change_split_cancel_produce_and_merge_as_usual(self):
        def call(model, method, *args, **kwargs):
            return self.rpc(MRP_USER, model, method, *args, **kwargs)

        production_id = call(
            "mrp.production",
            "create",
            {"product_id": self.sensor.id, "product_qty": 2},
        )
        production = self.env["mrp.production"].browse(production_id)
        call("mrp.production", "action_confirm", [production_id])
        self.assertEqual(
            production.pico_order_ref, self.company._pico_order_ref(production.name)
        )
        self.assertEqual(production.pico_unit_ids.mapped("state"), ["queued"] * 2)
        self.dispatch()

        self.create_and_call(
            MRP_USER,
            "change.production.qty",
            "change_prod_qty",
            {"mo_id": production_id, "product_qty": 3},
        )
        self.assertEqual(len(production.pico_unit_ids), 3)

        line = {"quantity": 1, "date": fields.Datetime.to_string(production.date_start)}
        self.create_and_call(
            MRP_USER,
            "mrp.production.split",
            "action_split",
            {
                "production_id": production_id,
                "production_detailed_vals_ids": [Command.create(line)] * 3,
            },
        )
        family = production_family(production).sorted("id")
        self.assertEqual(len(family), 3)
        self.assertEqual(
            set(family.mapped("pico_order_ref")), {production.pico_order_ref}
        )
        self.assertEqual([len(p.pico_unit_ids) for p in family], [1, 1, 1])

        first, second, third = family
        call("mrp.production", "action_cancel", second.ids)
        self.assertEqual(second.pico_unit_ids.state, "cancelled")
        call("mrp.production", "button_mark_done", third.ids)
        self.assertEqual(third.state, "done")
        self.assertEqual(third.pico_unit_ids.state, "cancelled")  # made by hand
        self.assertEqual(first.pico_unit_ids.state, "sent")
        self.dispatch()
        self.assertEqual(
            self.sim_orders(first), [(0, "open"), (1, "cancelled"), (2, "cancelled")]
        )

        merged = self.make_mo(self.sensor, 1) | self.make_mo(self.sensor, 1)
        call("mrp.production", "action_merge", merged.ids)
        new = self.env["mrp.production"].search(
            [("product_id", "=", self.sensor.id), ("id", ">", max(merged.ids))]
        )
        self.assertEqual(new.pico_order_ref, self.company._pico_order_ref(new.name))
        self.assertEqual(len(new.pico_unit_ids), 2)
        self.assertEqual(set(merged.pico_unit_ids.mapped("state")), {"cancelled"})


@tagged("post_install", "-at_install")
class TestEngineLookupsIgnoreRecordRules(AccessCase):
    """The engine decides on every unit of an order, also those a user's record
    rules hide: here, a rule that shows users only the units of their own MOs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        group = cls.env["res.groups"].create({"name": "Units of own orders (test)"})
        cls.env["ir.model.data"].create(
            {
                "module": "pico_mes_test",
                "name": "group_own_units",
                "model": "res.groups",
                "res_id": group.id,
            }
        )
        cls.env["ir.rule"].create(
            {
                "name": "PICO units of own orders (test)",
                "model_id": cls.env["ir.model"]._get_id("pico.unit"),
                "groups": [Command.link(group.id)],
                "domain_force": "['|', ('production_id', '=', False),"
                " ('production_id.user_id', '=', user.id)]",
            }
        )
        cls.operator = make_user(
            cls.env,
            "rpc-own-orders",
            "mrp.group_mrp_user",
            "pico_mes_test.group_own_units",
            email="own@example.com",
        )

    def test_the_rule_hides_the_units_of_other_orders(self):
        production = self.sent_sensors(2, user=self.planner)
        units = self.env["pico.unit"].with_user(self.operator)
        self.assertFalse(units.search([("production_id", "=", production.id)]))

    @mute_logger(*QUIET)
    def test_cancelling_an_order_keeps_the_units_of_its_hidden_backorder(self):
        production = self.sent_sensors(2, user=self.planner)
        family = production._split_productions({production: [1, 1]})
        mine, planners = family.sorted("id")
        mine.user_id = self.operator
        self.rpc("rpc-own-orders", "mrp.production", "action_cancel", mine.ids)
        self.dispatch()
        self.assertEqual(mine.pico_unit_ids.state, "cancelled")
        self.assertEqual(planners.pico_unit_ids.state, "sent")
        self.assertEqual(self.sim_orders(production), [(0, "cancelled"), (1, "open")])

    @mute_logger(*QUIET)
    def test_lowering_the_quantity_counts_the_units_the_user_cannot_see(self):
        production = self.sent_sensors(2, user=self.planner)
        self.create_and_call(
            "rpc-own-orders",
            "change.production.qty",
            "change_prod_qty",
            {"mo_id": production.id, "product_qty": 1},
        )
        units = self.env["pico.unit"].search(
            [("external_order_id", "=", production.pico_order_ref)]
        )
        self.assertEqual(
            [(u.order_index, u.state) for u in units], [(0, "sent"), (1, "cancelled")]
        )
        self.dispatch()
        self.assertEqual(self.sim_orders(production), [(0, "open"), (1, "cancelled")])


@tagged("post_install", "-at_install")
class TestRoleMatrix(AccessCase):
    """One test per action; one subtest per role."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bench = cls.env["mrp.workcenter"].create({"name": "Assembly Bench"})
        cls.chair = cls.make_product("WI-CHAIR", "Chair")
        cls.chair_bom = cls.make_bom(cls.chair, [(cls.screw, 2), (cls.shade, 1)])
        cls.chair_bom.operation_ids = [
            Command.create({"name": "Fit the shade", "workcenter_id": cls.bench.id})
        ]
        cls.company.pico_allow_bom_transfer = True

    @mute_logger(*QUIET)
    def test_confirm_a_pico_order(self):
        allowed = {MRP_USER, MRP_ADMIN, "rpc-pico-user", PICO_MANAGER}
        values = {"product_id": self.sensor.id, "product_qty": 1}
        for role, login, may in self.roles(allowed):
            with self.subTest(role=role):
                if may:
                    production_id = self.rpc(login, "mrp.production", "create", values)
                    self.rpc(login, "mrp.production", "action_confirm", [production_id])
                    production = self.env["mrp.production"].browse(production_id)
                    self.assertEqual(production.pico_unit_ids.state, "queued")
                else:
                    draft = self.make_mo(self.sensor, 1, confirm=False)
                    self.assert_refused(login, "mrp.production", "create", values)
                    self.assert_refused(
                        login, "mrp.production", "action_confirm", draft.ids
                    )
                    self.assertEqual(draft.state, "draft")

    @mute_logger(*QUIET)
    def test_send_a_bom(self):
        self.company._pico_check_bom_transfer()
        bom = self.chair_bom
        for role, login, may in self.roles({PICO_MANAGER}):
            with self.subTest(role=role):
                if may:
                    action = self.rpc(login, "mrp.bom", "action_pico_send", bom.ids)
                    self.create_and_call(
                        login,
                        action["res_model"],
                        "action_confirm",
                        context=action["context"],
                    )
                    self.assertEqual(len(bom.pico_transfer_message_ids), 3)
                    self.assertTrue(bom.pico_transferred)
                else:
                    sent = bom.pico_transfer_message_ids
                    self.assert_refused(login, "mrp.bom", "action_pico_send", bom.ids)
                    self.assert_refused(
                        login,
                        "pico.bom.transfer.wizard",
                        "create",
                        {"bom_ids": [Command.set(bom.ids)]},
                    )
                    self.assertEqual(bom.pico_transfer_message_ids, sent)
        self.dispatch()
        self.assertEqual(bom.pico_transfer_state, "done")

    @mute_logger(*QUIET)
    def test_scrap_a_started_unit(self):
        allowed = {PICO_MANAGER, MRP_ADMIN}
        untouchable = self.started_unit()
        for role, login, may in self.roles(allowed):
            with self.subTest(role=role):
                if may:
                    unit = self.started_unit()
                    self.create_and_call(
                        login,
                        "pico.unit.scrap.wizard",
                        "action_confirm",
                        {"reason": f"dropped by {login}", "replace": True},
                        context={"default_unit_id": unit.id},
                    )
                    self.assertEqual(unit.state, "scrapped")
                    self.assertEqual(unit.replacement_id.state, "queued")
                else:
                    unit = untouchable
                    self.assert_refused(
                        login, "pico.unit", "action_pico_scrap", unit.ids, "no", True
                    )
                    self.assert_refused(
                        login,
                        "pico.unit.scrap.wizard",
                        "create",
                        {"unit_id": unit.id, "reason": "no", "replace": True},
                    )
        self.assertEqual(untouchable.state, "in_progress")
        self.assertFalse(untouchable.scrap_ids)

    @mute_logger(*QUIET)
    def test_retry_a_failed_message(self):
        _production, refused = self.failed_order()
        for role, login, may in self.roles({PICO_MANAGER}):
            with self.subTest(role=role):
                if may:
                    _production, message = self.failed_order()
                    self.rpc(login, "pico.message", "action_retry", message.ids)
                    self.assertEqual(message.state, "pending")
                else:
                    self.assert_refused(
                        login, "pico.message", "action_retry", refused.ids
                    )
        self.assertEqual(refused.state, "failed")

    @mute_logger(*QUIET)
    def test_retry_a_failed_order_from_its_mo(self):
        refused, message = self.failed_order()
        for role, login, may in self.roles({PICO_MANAGER}):
            with self.subTest(role=role):
                if may:
                    production, retried = self.failed_order()
                    self.rpc(
                        login, "mrp.production", "action_pico_retry", production.ids
                    )
                    self.assertEqual(retried.state, "pending")
                    self.assertFalse(production.pico_error)
                else:
                    self.assert_refused(
                        login, "mrp.production", "action_pico_retry", refused.ids
                    )
        self.assertEqual(message.state, "failed")
        self.assertTrue(refused.pico_error)
        self.assertEqual(refused.pico_state, "error")

    @mute_logger(*QUIET)
    def test_discard_a_failed_message(self):
        _production, refused = self.failed_order()
        for role, login, may in self.roles({PICO_MANAGER}):
            with self.subTest(role=role):
                if may:
                    _production, message = self.failed_order()
                    self.create_and_call(
                        login,
                        "pico.message.discard",
                        "action_discard",
                        {"reason": "ordered again by hand"},
                        context={"active_ids": message.ids},
                    )
                    self.assertEqual(message.state, "discarded")
                else:
                    self.assert_refused(
                        login,
                        "pico.message",
                        "action_discard",
                        refused.ids,
                        reason="no",
                    )
                    self.assert_refused(
                        login,
                        "pico.message.discard",
                        "create",
                        {"reason": "no"},
                        context={"active_ids": refused.ids},
                    )
        self.assertEqual(refused.state, "failed")

    # ------------------------------------------ PICO MES > Connection, Settings

    def connection_calls(self, login, method):
        """The two places the action lives: PICO MES > Connection (PICO
        Managers) and the settings page (Settings administrators)."""
        if login == PICO_MANAGER:
            return self.create_and_call(login, "pico.connection", method)
        return self.create_and_call(login, "res.config.settings", method)

    def assert_connection_refused(self, login, method):
        self.assert_refused(login, "pico.connection", method, [])
        self.assert_refused(login, "pico.connection", "create", {})
        self.assert_refused(login, "res.config.settings", "create", {})

    @mute_logger(*QUIET)
    def test_sync_operations(self):
        self.sim.upsert_operation({"id": "op-access-refused", "name": "Refused"})
        for role, login, may in self.roles({PICO_MANAGER, SETTINGS_ADMIN}):
            with self.subTest(role=role):
                if may:
                    pico_id = f"op-access-{login}"
                    self.sim.upsert_operation({"id": pico_id, "name": login})
                    action = self.connection_calls(login, "action_pico_sync_operations")
                    self.assertEqual(action["params"]["type"], "success")
                    self.assertTrue(self.operation(pico_id))
                else:
                    self.assert_connection_refused(login, "action_pico_sync_operations")
        refused = self.env["pico.operation"].search(
            [("pico_id", "=", "op-access-refused")]
        )
        self.assertEqual(len(refused), 1)  # synced by the allowed ones only
        self.assertEqual(refused.create_uid.login, PICO_MANAGER)

    @mute_logger(*QUIET)
    def test_a_pico_manager_acts_for_their_own_companies_only(self):
        other = self.env["res.company"].create({"name": "Other Plant"})
        self.assert_refused(
            PICO_MANAGER, "pico.connection", "create", {"company_id": other.id}
        )
        connection = self.env["pico.connection"].create({"company_id": other.id})
        self.assert_refused(
            PICO_MANAGER,
            "pico.connection",
            "action_pico_sync_operations",
            connection.ids,
        )

    @mute_logger(*QUIET)
    def test_register_webhooks(self):
        for role, login, may in self.roles({PICO_MANAGER, SETTINGS_ADMIN}):
            with self.subTest(role=role):
                self.sim.reset(subscriptions=True)
                if may:
                    action = self.connection_calls(
                        login, "action_pico_register_webhooks"
                    )
                    self.assertEqual(action["params"]["type"], "success")
                    self.assertEqual(len(self.sim.subscriptions()), 2)
                else:
                    self.assert_connection_refused(
                        login, "action_pico_register_webhooks"
                    )
                    self.assertFalse(self.sim.subscriptions())

    @mute_logger(*QUIET)
    def test_test_the_connection(self):
        for role, login, may in self.roles({PICO_MANAGER, SETTINGS_ADMIN}):
            with self.subTest(role=role):
                self.company.sudo().pico_bom_transfer_check = "unchecked"
                if may:
                    action = self.connection_calls(login, "action_pico_test_connection")
                    self.assertEqual(action["params"]["type"], "success")
                    self.assertEqual(self.company.pico_bom_transfer_check, "ok")
                else:
                    self.assert_connection_refused(login, "action_pico_test_connection")
                    self.assertEqual(self.company.pico_bom_transfer_check, "unchecked")

    @mute_logger(*QUIET)
    def test_read_the_api_token_or_the_webhook_secret(self):
        secret = self.company._pico_webhook_secret()
        company = self.company.ids
        for role, login, may in self.roles({SETTINGS_ADMIN}):
            with self.subTest(role=role):
                if may:
                    (values,) = self.rpc(
                        login,
                        "res.company",
                        "read",
                        company,
                        ["pico_api_token", "pico_webhook_secret"],
                    )
                    self.assertEqual(
                        (values["pico_api_token"], values["pico_webhook_secret"]),
                        (TOKEN, secret),
                    )
                    continue
                for field in ("pico_api_token", "pico_webhook_secret"):
                    self.assert_refused(login, "res.company", "read", company, [field])
                    self.assert_refused(
                        login, "res.company", "search", [(field, "=like", "a%")]
                    )
                    self.assert_refused(
                        login, "res.company", "search_read", [], [field]
                    )
        connection = self.rpc(PICO_MANAGER, "pico.connection", "create", {})
        (values,) = self.rpc(PICO_MANAGER, "pico.connection", "read", [connection])
        self.assertNotIn(TOKEN, str(values))
        self.assertNotIn(secret, str(values))

    @mute_logger(*QUIET)
    def test_edit_picos_catalog_or_the_connectors_log(self):
        """PICO's catalog, units and messages: read-only for every role."""
        production = self.sent_sensors()
        process = self.env["pico.process"].create(
            {
                "parent_id": self.op_sensor.id,
                "operation_id": self.operation("op-proc-solder").id,
                "company_id": self.company.id,
            }
        )
        attribute = self.op_lamp.attribute_ids[:1]
        attempts = [
            ("pico.operation", "write", [self.op_sensor.ids, {"pico_id": "op-x"}]),
            ("pico.operation", "create", [{"pico_id": "op-x", "name": "X"}]),
            ("pico.operation", "unlink", [self.op_sensor.ids]),
            ("pico.process", "write", [process.ids, {"sub_group": "x"}]),
            ("pico.process", "unlink", [process.ids]),
            ("pico.operation.attribute", "write", [attribute.ids, {"pico_id": "x"}]),
            ("pico.operation.attribute", "unlink", [attribute.ids]),
            ("pico.unit", "write", [production.pico_unit_ids.ids, {"state": "done"}]),
            ("pico.message", "unlink", [self.messages(production).ids]),
        ]
        for role, login, _may in self.roles():
            for model, method, args in attempts:
                with self.subTest(role=role, model=model, method=method):
                    self.assert_refused(login, model, method, *args)
        self.assertEqual(self.op_sensor.pico_id, "op-sensor-kit")
        self.assertTrue(process.exists() and attribute.exists())
        self.assertEqual(production.pico_unit_ids.state, "sent")
