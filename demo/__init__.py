"""The PICO demo: its data (loaded inside Odoo) and the processes that serve it."""
