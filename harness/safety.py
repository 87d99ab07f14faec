"""May destructive drills run here? Refuse before anything is touched, and say how to opt in.

Destructive drills (marker ``destructive``: they cordon nodes, patch templates, kill
processes) run freely on localkube. On a real cluster (``--cluster=kube``) they need both
``--allow-destructive`` and ``--confirm-context=<the context in use>`` on the command line
(``Settings`` refuses to read either from ini or environment).

The refusal is a pytest usage error (exit status 4) raised once the tests are collected and
before the cluster is contacted, not a skip: a nightly job that silently skipped its drain
drill would report green having tested nothing. The one line names the context and the
flags to add, or how to leave the destructive drills out.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.errors import SafetyRefusal
from harness.settings import Settings

MARKER = "destructive"


def active_context(settings: Settings) -> str:
    """The kubeconfig context a ``--cluster=kube`` run will use (read, not contacted)."""
    if settings.context:
        return settings.context
    from harness.kube.client import load_api_client  # loads kubernetes only when needed

    api_client, chosen, _where = load_api_client(settings.kubeconfig, None)
    api_client.close()
    return chosen


def refusal(settings: Settings, destructive: Iterable[str]) -> str | None:
    """Why the ``destructive`` tests (node ids) may not run, in one line; None if they may."""
    names = sorted(destructive)
    if settings.cluster == "local" or not names:
        return None
    context = active_context(settings)
    try:
        settings.check_destructive(context)
    except SafetyRefusal as exc:
        shown = ", ".join(n.rsplit("::", 1)[-1] for n in names[:3])
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        return (f"{exc.message}: {len(names)} destructive drill(s) selected ({shown}{more}); "
                f"to run them add --allow-destructive --confirm-context={context}, "
                f"or leave them out with -m 'not destructive'")
    return None


def require_destructive(settings: Settings, context: str) -> None:
    """The in-drill check (defence in depth): raises ``SafetyRefusal``."""
    settings.check_destructive(context)
