from . import test_outbound
