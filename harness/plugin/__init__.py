"""zkdrill's pytest plugin: thin glue between pytest and the harness, in one package.

Loaded by its ``pytest11`` entry point wherever pytest runs (and by the repository's root
``conftest.py``). Each hook is defined once, in the module that owns its job:

- ``options``: the ``zkdrill`` option group, markers, ``Settings``, report header, timeouts;
- ``startup``: the destructive-drill interlock, connecting, the journal's replay and
  ``--zkdrill-repair``;
- ``fixtures``: ``settings``, ``cluster``, ``deployed_ensemble`` and ``drill``;
- ``reporting``: outcomes, JUnit/JSON/HTML files, the summary table, the live transcript.

Bad input (an unknown ``--cluster``, an unreadable kubeconfig, a missing context, namespace
or StatefulSet, an unreachable API, a malformed manifest, localkube's preflight) ends the
run with one ``ERROR: zkdrill: ...`` line and exit status 4, never a traceback.
"""

from harness.plugin.fixtures import cluster, deployed_ensemble, drill, settings
from harness.plugin.options import (
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_report_header,
)
from harness.plugin.reporting import (
    pytest_runtest_makereport,
    pytest_runtest_setup,
    pytest_sessionfinish,
    pytest_terminal_summary,
)
from harness.plugin.startup import (
    pytest_collection_finish,
    pytest_runtestloop,
    pytest_sessionstart,
)

__all__ = [
    "cluster",
    "deployed_ensemble",
    "drill",
    "pytest_addoption",
    "pytest_collection_finish",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_runtestloop",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "pytest_terminal_summary",
    "settings",
]
