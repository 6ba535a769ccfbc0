from . import pico_message_discard
