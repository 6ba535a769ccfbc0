from . import pico_bom_transfer_wizard
