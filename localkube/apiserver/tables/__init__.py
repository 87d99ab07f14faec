"""Server-side ``Table`` rendering for ``kubectl get`` (``Accept: …;as=Table;g=meta.k8s.io``).

kubectl prints whatever columns and cells the server returns, so these rows follow
kube-apiserver's printers (pkg/printers/internalversion): the same column names, types and
priorities, and the same cell logic - above all the pod ``STATUS``/``READY``/``RESTARTS``
computation that drills and humans read.  The server always renders the wide (priority 1)
cells; kubectl hides them unless ``-o wide``.  Pure: the caller supplies objects, the list
resourceVersion and "now".
"""

from localkube.apiserver.tables.pods import pod_status_cells
from localkube.apiserver.tables.table import (
    column_definitions,
    row_cells,
    table_kind,
    to_table,
)

__all__ = ["column_definitions", "pod_status_cells", "row_cells", "table_kind", "to_table"]
