"""Tests of pico_sim; they need neither Odoo nor a network beyond localhost."""
