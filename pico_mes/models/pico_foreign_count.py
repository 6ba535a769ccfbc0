from collections import Counter
from datetime import timedelta

from odoo import api, fields, models

from .. import compat

FOREIGN_COUNT_DAYS = 30


class PicoForeignCount(models.Model):
    """How many events PICO delivered to a company's webhook for another
    company's or another database's orders: ignored, and only counted.

    PICO delivers every completion to every subscription of the instance, so a
    company sharing PICO with neighbours receives theirs too. Counted per
    company, reference prefix, day and database connection: one connection runs
    one transaction at a time, so concurrent deliveries never write the same row
    (no write conflict, no retry); the settings show the sum.
    """

    _name = "pico.foreign.count"
    _description = "PICO deliveries for other companies or databases"
    _order = "day desc, id desc"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    prefix = fields.Char(
        string="Order Prefix", required=True, readonly=True, help="Not one of ours."
    )
    day = fields.Date(required=True, readonly=True)
    connection = fields.Integer(required=True, readonly=True)
    count = fields.Integer(required=True, readonly=True)
    last_at = fields.Datetime(string="Last Delivery", readonly=True)

    _slot_uniq = compat.Constraint(
        "unique(company_id, prefix, day, connection)",
        "One counter per company, prefix, day and connection.",
    )

    @api.model
    def _count(self, company, prefixes):
        """Add one per ignored event; ``prefixes``: the prefix of each."""
        counts = Counter(prefixes)
        if not counts:
            return
        now = fields.Datetime.now()
        values = ", ".join(
            ["(%s, %s, %s, pg_backend_pid(), %s, %s, %s, %s, %s, %s)"] * len(counts)
        )
        uid = self.env.uid
        params = [
            value
            for prefix, count in counts.items()
            for value in (
                company.id,
                prefix,
                now.date(),
                count,
                now,
                now,
                now,
                uid,
                uid,
            )
        ]
        self.env.cr.execute(
            f"""INSERT INTO pico_foreign_count
                   (company_id, prefix, day, connection, count, last_at,
                    create_date, write_date, create_uid, write_uid)
                VALUES {values}
                ON CONFLICT (company_id, prefix, day, connection) DO UPDATE
                SET count = pico_foreign_count.count + EXCLUDED.count,
                    last_at = EXCLUDED.last_at""",  # noqa: S608 -- placeholders only
            params,
        )

    @api.model
    def _summary(self, companies):
        """{company: (events ignored in the last FOREIGN_COUNT_DAYS days, their
        prefixes)}."""
        since = fields.Date.today() - timedelta(days=FOREIGN_COUNT_DAYS)
        groups = self.sudo()._read_group(
            [("company_id", "in", companies.ids), ("day", ">=", since)],
            ["company_id", "prefix"],
            ["count:sum"],
        )
        summary = {}
        for company, prefix, count in groups:
            total, prefixes = summary.get(company, (0, []))
            summary[company] = (total + count, sorted([*prefixes, prefix]))
        return summary

    @api.autovacuum
    def _gc_foreign_counts(self):
        since = fields.Date.today() - timedelta(days=FOREIGN_COUNT_DAYS)
        self.search([("day", "<", since)]).unlink()
