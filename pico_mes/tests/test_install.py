from pathlib import Path

from odoo.tests import TransactionCase, tagged

from .. import compat

# Every constraint pico_mes declares, as PostgreSQL shows it. The engine's
# INSERT ... ON CONFLICT relies on the message and unit keys.
CONSTRAINTS = {
    "mrp_workcenter_productivity_pico_unit_process_uniq": (
        "UNIQUE (pico_unit_id, pico_process_id)"
    ),
    "pico_dashboard_card_code_uniq": "UNIQUE (code)",
    "pico_foreign_count_slot_uniq": "UNIQUE (company_id, prefix, day, connection)",
    "pico_message_dedup_key_uniq": "UNIQUE (company_id, dedup_key)",
    "pico_operation_pico_id_company_uniq": "UNIQUE (pico_id, company_id)",
    "pico_operation_attribute_operation_pico_id_uniq": "UNIQUE (operation_id, pico_id)",
    "pico_process_link_uniq": "UNIQUE (parent_id, operation_id)",
    "pico_unit_pico_key_uniq": (
        "UNIQUE (company_id, external_order_id, operation_pico_id, order_index)"
    ),
    "pico_unit_process_unit_process_uniq": "UNIQUE (unit_id, process_pico_id)",
    "res_company_pico_order_prefix_uniq": "UNIQUE (pico_order_prefix)",
    "res_company_pico_serial_units_per_mo_not_negative": (
        "CHECK ((pico_serial_units_per_mo >= 0))"
    ),
}
# The indexes pico_mes creates itself (init()), beside those of indexed fields.
INDEXES = {
    "pico_message_order_queue_idx": "pico_message",
    "pico_unit_order_index_idx": "pico_unit",
    "pico_unit_process_operation_newest_idx": "pico_unit_process",
}


@tagged("post_install", "-at_install")
class TestDatabaseObjects(TransactionCase):
    """What the models declare exists in PostgreSQL, on every Odoo series."""

    def test_each_constraint_exists_in_the_database(self):
        self.env.cr.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conname IN %s",
            [tuple(CONSTRAINTS)],
        )
        self.assertEqual(dict(self.env.cr.fetchall()), CONSTRAINTS)

    def test_the_models_declare_exactly_these_constraints(self):
        declared = {}
        for model_name in self.env.registry:
            declared.update(
                compat.declared_constraints(self.env[model_name], "pico_mes")
            )
        self.assertEqual(set(declared), set(CONSTRAINTS))

    def test_each_index_exists_in_the_database(self):
        self.env.cr.execute(
            "SELECT indexname, tablename FROM pg_indexes WHERE indexname IN %s",
            [tuple(INDEXES)],
        )
        self.assertEqual(dict(self.env.cr.fetchall()), INDEXES)

    def test_no_model_declares_sql_constraints_which_19_ignores(self):
        """``_sql_constraints`` is ignored since Odoo 19.0: ``compat.Constraint``
        declares a constraint each series reads."""
        addon = Path(__file__).resolve().parents[1]
        offenders = [
            str(path.relative_to(addon))
            for path in addon.rglob("*.py")
            if path.parent.name != "tests"
            and path.name != "compat.py"
            and "_sql_constraints" in path.read_text()
        ]
        self.assertEqual(offenders, [])


@tagged("post_install", "-at_install")
class TestRoles(TransactionCase):
    """The PICO roles as installed, on every Odoo series."""

    def test_administrator_and_superuser_are_pico_managers(self):
        for xmlid in ("base.user_admin", "base.user_root"):
            user = self.env.ref(xmlid)
            self.assertTrue(user.has_group("pico_mes.group_pico_manager"), xmlid)

    def test_roles_are_one_choice_under_pico_mes_in_user_settings(self):
        category = self.env.ref("pico_mes.module_category_pico")
        user = self.env.ref("pico_mes.group_pico_user")
        manager = self.env.ref("pico_mes.group_pico_manager")
        self.assertEqual(compat.role_category(user), category)
        self.assertEqual(compat.role_category(manager), category)
        self.assertIn(user, manager.implied_ids)
        self.assertIn(self.env.ref("mrp.group_mrp_user"), user.implied_ids)


@tagged("post_install", "-at_install")
class TestSeriesNames(TransactionCase):
    """What compat.py names exists in the Odoo series that runs."""

    def test_names_of_fields_precisions_and_states_exist(self):
        self.assertIn(compat.USER_GROUPS_FIELD, self.env["res.users"]._fields)
        self.assertIn(compat.GROUP_USERS_FIELD, self.env["res.groups"]._fields)
        self.assertTrue(
            self.env["decimal.precision"].search(
                [("name", "=", compat.PRODUCT_UOM_PRECISION)]
            )
        )
        states = dict(self.env["mrp.workorder"]._fields["state"].selection)
        self.assertLessEqual(set(compat.WORKORDER_NOT_STARTED), set(states))
        self.assertNotIn("progress", compat.WORKORDER_NOT_STARTED)
