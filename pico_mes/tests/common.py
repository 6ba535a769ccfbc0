"""Shared set-up: a PICO simulator on localhost, a company pointed at it, products.

The simulator (``pico_sim``, installed from the repository root) runs in this process on a free
port; the addon talks to it over real HTTP. Webhook deliveries are driven from the
test thread (``background_delivery=False``) so that HttpCase requests never race
the test's own cursor.
"""

import logging
from urllib.parse import urlsplit

from odoo import Command
from odoo.tests import Form, TransactionCase
from odoo.tests import common as odoo_tests_common

from odoo.addons.pico_mes import compat

from pico_sim import DEMO_SEED, PicoSimulator  # installed by bin/test (pyproject.toml)

TOKEN = "test-token-not-secret"


def make_user(env, login, *group_xmlids, **values):
    """An internal user in exactly these groups (xml ids), password = login."""
    groups = [env.ref(xmlid).id for xmlid in group_xmlids]
    return env["res.users"].create(
        dict(
            {"name": login, "login": login, "password": login},
            **values,
            **{compat.USER_GROUPS_FIELD: [Command.set(groups)]},
        )
    )


def add_groups(user, *group_xmlids):
    """Give ``user`` these groups (xml ids) as well."""
    groups = [user.env.ref(xmlid).id for xmlid in group_xmlids]
    user.write({compat.USER_GROUPS_FIELD: [Command.link(g) for g in groups]})


def production_family(production):
    """The MOs split or backordered from ``production``'s order, with it."""
    return compat.production_family(production)


class PicoSimulatorMixin:
    """Starts one simulator per test class."""

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        """Requests to this machine go out as the client sends them: Odoo 19.0's
        test handler compares ``timeout`` with a number, where requests also
        takes the (connect, read) pair the PICO client gives."""
        if urlsplit(request.url).hostname in ("127.0.0.1", "localhost"):
            return odoo_tests_common._super_send(session, request, **kwargs)
        return super()._request_handler(session, request, **kwargs)

    @classmethod
    def start_simulator(cls, **options):
        logging.getLogger("pico_sim.http").setLevel(
            logging.WARNING
        )  # one line a request
        options.setdefault("background_delivery", False)
        options.setdefault("retry_base_seconds", 0.01)
        options.setdefault("seed", str(DEMO_SEED))
        sim = PicoSimulator(token=TOKEN, **options).start()
        cls.addClassCleanup(sim.stop)
        return sim


class PicoCommon(PicoSimulatorMixin):
    """A company with PICO enabled, synced operations and mapped products.

    - ``lamp``: serial-tracked, BoM = 1 LED driver (serial-tracked, mapped to the
      operation's attribute) + 2 screws + 1 shade (untracked); op-desk-lamp.
    - ``sensor``: untracked, BoM = 1 screw + 1 shade; op-sensor-kit.
    - ``widget``: untracked, not mapped to any operation.
    """

    @classmethod
    def setup_pico(cls):
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.sim = cls.start_simulator()
        cls.company = cls.env.company
        cls.company.write(
            {"pico_enabled": True, "pico_api_url": cls.sim.url, "pico_api_token": TOKEN}
        )
        cls.stock_location = cls.env.ref("stock.stock_location_stock")
        cls.screw = cls.make_product("PICO-SCREW", "Screw")
        cls.shade = cls.make_product("PICO-SHADE", "Shade")
        cls.driver = cls.make_product(
            "PICO-LED-DRIVER", "LED Driver", tracking="serial"
        )
        cls.lamp = cls.make_product("PICO-LAMP", "Desk Lamp", tracking="serial")
        cls.sensor = cls.make_product("PICO-SENSOR", "Sensor Kit")
        cls.widget = cls.make_product("WIDGET", "Widget")
        cls.lamp_bom = cls.make_bom(
            cls.lamp, [(cls.driver, 1), (cls.screw, 2), (cls.shade, 1)]
        )
        cls.sensor_bom = cls.make_bom(cls.sensor, [(cls.screw, 1), (cls.shade, 1)])
        cls.widget_bom = cls.make_bom(cls.widget, [(cls.screw, 1)])
        cls.env["pico.operation"]._pico_sync_company(cls.company, full=True)
        cls.op_lamp = cls.operation("op-desk-lamp")
        cls.op_sensor = cls.operation("op-sensor-kit")
        for product, quantity in ((cls.screw, 1000), (cls.shade, 1000)):
            cls.env["stock.quant"]._update_available_quantity(
                product, cls.stock_location, quantity
            )
        cls.driver_lots = cls.stock_serials(cls.driver, "DRV", 12)
        cls.mrp_user = make_user(
            cls.env, "pico-mrp-user", "mrp.group_mrp_user", name="Mia Manufacturing"
        )

    @classmethod
    def make_product(cls, code, name, tracking="none"):
        return cls.env["product.product"].create(
            {
                "name": name,
                "default_code": code,
                "is_storable": True,
                "tracking": tracking,
            }
        )

    @classmethod
    def make_bom(cls, product, lines):
        return cls.env["mrp.bom"].create(
            {
                "product_tmpl_id": product.product_tmpl_id.id,
                "product_qty": 1,
                "consumption": "strict",
                "bom_line_ids": [
                    Command.create({"product_id": p.id, "product_qty": q})
                    for p, q in lines
                ],
            }
        )

    @classmethod
    def stock_serials(cls, product, prefix, count):
        lots = cls.env["stock.lot"].create(
            [
                {"name": f"{prefix}-{i:03d}", "product_id": product.id}
                for i in range(1, count + 1)
            ]
        )
        for lot in lots:
            cls.env["stock.quant"]._update_available_quantity(
                product, cls.stock_location, 1, lot_id=lot
            )
        return lots

    @classmethod
    def operation(cls, pico_id):
        return cls.env["pico.operation"].search([("pico_id", "=", pico_id)])

    # ------------------------------------------------------------ helpers

    def reset_simulator(self):
        """Each test starts from the seed: the simulator outlives test rollbacks."""
        self.sim.reset(operations=True, subscriptions=True)
        self.sim.clear_faults()
        self.sim.set_delivery_faults()

    def make_mo(self, product, quantity=1, confirm=True):
        form = Form(self.env["mrp.production"])
        form.product_id = product
        form.product_qty = quantity
        production = form.save()
        if confirm:
            production.action_confirm()
        return production

    def dispatch(self):
        self.env["pico.message"]._cron_dispatch()

    def run_one_cron_batch(self, cron):
        """One call of ``cron``'s code as Odoo's cron runner makes it (a progress
        record of its own, the cron in the context): (done, remaining)."""
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id})
        cron.ir_actions_server_id.with_context(
            ir_cron_progress_id=progress.id, cron_id=cron.id
        ).run()
        return progress.done, progress.remaining

    def deliver(self):
        """In an HttpCase: let the simulator POST its pending events to this
        test's server, as PICO would. Returns the answers' statuses."""
        self.env.flush_all()
        with compat.requests_from_outside(self):
            deliveries = self.sim.deliver_pending(now=True)
        self.env.invalidate_all()
        return [status for status, _event in deliveries]

    def sim_orders(self, production):
        return sorted(
            (o["orderIndex"], o["state"])
            for o in self.sim.orders(production.pico_order_ref)
        )

    def messages(self, production, **filters):
        domain = [("production_id", "=", production.id)]
        domain += [(k, "=", v) for k, v in filters.items()]
        return self.env["pico.message"].search(domain)

    def stock(self, product, lot=None):
        quants = self.env["stock.quant"]._gather(
            product, self.stock_location, lot_id=lot, strict=bool(lot)
        )
        return sum(quants.mapped("quantity"))


class PicoTransactionCase(PicoCommon, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_pico()

    def setUp(self):
        super().setUp()
        self.reset_simulator()
