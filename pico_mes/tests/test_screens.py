from types import SimpleNamespace

from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import PicoTransactionCase


@tagged("post_install", "-at_install")
class TestScreens(PicoTransactionCase):
    def fields_in_view(self, model, view_type, name, view_ref=None):
        view_id = self.env.ref(view_ref).id if view_ref else None
        arch = self.env[model].get_view(view_id, view_type)["arch"]
        return etree.fromstring(arch).xpath(f"//field[@name='{name}']")

    def test_bom_operation_screens_show_process_mapping_and_transfer_ids(self):
        """Floor times and BoM transfer extend the same operation views: the one
        loaded last must not replace the other's fields."""
        for view_ref, view_type in (
            ("mrp.mrp_routing_workcenter_form_view", "form"),
            ("mrp.mrp_routing_workcenter_bom_tree_view", "list"),
        ):
            for name in ("pico_process_id", "pico_wi_process_id"):
                with self.subTest(view=view_ref, field=name):
                    self.assertTrue(
                        self.fields_in_view(
                            "mrp.routing.workcenter", view_type, name, view_ref
                        )
                    )

    def test_cycle_time_in_minutes_is_not_shown_as_hours(self):
        field = self.env["pico.unit"]._fields["cycle_time"]
        self.assertIn("min", field.string)
        shown = [
            node
            for model, view_type in (
                ("pico.unit", "list"),
                ("pico.unit", "form"),
                ("mrp.production", "form"),
            )
            for node in self.fields_in_view(model, view_type, "cycle_time")
        ]
        self.assertGreaterEqual(len(shown), 3)  # the MO form also lists processes
        for node in shown:
            self.assertNotIn(node.get("widget"), ("float_time", "float_time_hours"))

    def attribute_choices(self, bom):
        (node,) = self.fields_in_view("mrp.bom", "form", "pico_attribute_id")
        parent = SimpleNamespace(
            **{
                name: bom[name].id
                for name in ("pico_operation_id", "pico_effective_operation_id")
            }
        )
        domain = safe_eval(node.get("domain"), {"parent": parent})
        return self.env["pico.operation.attribute"].search(domain)

    def test_bom_line_chooser_lists_the_inherited_operation_attributes(self):
        self.assertFalse(self.lamp_bom.pico_operation_id)
        self.assertEqual(self.lamp_bom.pico_effective_operation_id, self.op_lamp)
        self.assertEqual(
            self.attribute_choices(self.lamp_bom), self.op_lamp.attribute_ids
        )

    def test_bom_line_chooser_follows_the_bom_operation(self):
        control_box = self.operation("op-control-box")
        self.lamp_bom.pico_operation_id = control_box
        self.assertEqual(self.lamp_bom.pico_effective_operation_id, control_box)
        self.assertEqual(
            self.attribute_choices(self.lamp_bom), control_box.attribute_ids
        )
