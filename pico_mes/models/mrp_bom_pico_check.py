from odoo import api, models

MAPPING_ACTIVITY = "pico_mes.mail_activity_pico_mapping_needed"


class MrpBom(models.Model):
    """A BoM whose tracked components PICO cannot name gets a to-do."""

    _name = "mrp.bom"
    _inherit = ["mrp.bom", "mail.activity.mixin"]

    def _pico_unmapped_tracked_lines(self):
        """Tracked component lines no serial attribute or part number maps."""
        self.ensure_one()
        operation = self._pico_operation()
        codes = set(operation.attribute_ids.mapped("external_id"))
        return self.bom_line_ids.filtered(
            lambda line: (
                line.product_id.tracking != "none"
                and not line.pico_attribute_id
                and line.product_id.default_code not in codes
            )
        )

    def _pico_check_mapping(self):
        """Schedule (or refresh) "PICO: mapping needed" where lines are unmapped."""
        activity_type = self.env.ref(MAPPING_ACTIVITY, raise_if_not_found=False)
        if not activity_type:
            return
        for bom in self.filtered(lambda b: b._pico_operation()):
            lines = bom._pico_unmapped_tracked_lines()
            existing = bom.sudo().activity_ids.filtered(
                lambda a: a.activity_type_id == activity_type
            )
            if not lines:
                existing.action_feedback(self.env._("Mapped."))
                continue
            note = self.env._(
                "PICO cannot name these tracked components: %(lines)s. Map them to "
                "a serial attribute of %(operation)s, or give them the part number "
                "PICO uses.",
                lines=", ".join(lines.product_id.mapped("display_name")),
                operation=bom._pico_operation().display_name,
            )
            if existing:
                existing.note = note
            else:
                bom.sudo().activity_schedule(
                    MAPPING_ACTIVITY, note=note, user_id=bom._pico_responsible().id
                )

    def _pico_responsible(self):
        return (
            self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user
        )

    @api.model
    def _pico_check_company_mappings(self, company):
        self.search(
            [
                ("company_id", "in", [company.id, False]),
                "|",
                ("pico_operation_id", "!=", False),
                ("product_tmpl_id.pico_operation_id", "!=", False),
            ]
        )._pico_check_mapping()
