from . import pico_message_discard
from . import pico_bom_transfer_wizard
from . import pico_unit_scrap_wizard
