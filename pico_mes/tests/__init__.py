from . import test_outbound
from . import test_inbound
