from . import test_client
from . import test_documents
from . import test_settings
from . import test_sync
from . import test_outbound
from . import test_inbound
from . import test_webhook
from . import test_tours
