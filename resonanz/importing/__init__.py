"""``resonanz import``: customers, orders and posts from CSV/JSON-lines files.

Every row is validated; bad rows are reported with file, line and reason and skipped,
good rows are upserted on their natural keys in one transaction (re-importing the same
file changes nothing), and a malformed file leaves nothing written. Customer and order files
are streamed in batches with a progress line every 100,000 rows, so a million rows need
about the memory of one batch (``bench/bench_value_scale.py``).
"""

from resonanz.importing.common import ImportError_, ImportFileError, ImportReport, RowError
from resonanz.importing.customers import import_customers
from resonanz.importing.orders import import_orders
from resonanz.importing.posts import import_posts

__all__ = [
    "ImportError_",
    "ImportFileError",
    "ImportReport",
    "RowError",
    "import_customers",
    "import_orders",
    "import_posts",
]
