from odoo import api, fields, models


class MrpWorkcenter(models.Model):
    _inherit = "mrp.workcenter"

    pico_station_names = fields.Char(
        string="PICO Stations",
        help="Names of the PICO stations that are this work center, separated by "
        "commas. Time reported at these stations is logged on this work center.",
    )

    def _pico_station_list(self):
        self.ensure_one()
        return [
            name.strip().casefold()
            for name in (self.pico_station_names or "").split(",")
            if name.strip()
        ]

    @api.model
    def _pico_for_station(self, company, station):
        """The work center a PICO station name maps to, if exactly one does."""
        if not station:
            return self.browse()
        key = station.strip().casefold()
        candidates = self.search(
            [
                ("pico_station_names", "ilike", station.strip()),
                ("company_id", "in", [company.id, False]),
            ]
        )
        found = candidates.filtered(lambda w: key in w._pico_station_list())
        return found if len(found) == 1 else self.browse()
