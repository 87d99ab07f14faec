"""RoleBinding and ClusterRoleBinding rows (printRoleBinding/printClusterRoleBinding);
Roles and ClusterRoles use the default Name/Created At table, as in kube-apiserver."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from localkube.apiserver.tables.cells import _age, _age_col, _col, _meta, _name_col


def _binding_columns(kind: str, what: str) -> list[dict]:
    return [
        _name_col(),
        _col("Role", desc=f"{what} this {kind} refers to."),
        _age_col(),
        _col("Users", desc=f"Users in the {kind[0].lower()}{kind[1:]}.", priority=1),
        _col("Groups", desc=f"Groups in the {kind[0].lower()}{kind[1:]}.", priority=1),
        _col("ServiceAccounts", desc=f"ServiceAccounts in the {kind[0].lower()}{kind[1:]}.",
             priority=1),
    ]


_ROLE_BINDING_COLUMNS = _binding_columns("RoleBinding", "Role")
_CLUSTER_ROLE_BINDING_COLUMNS = _binding_columns("ClusterRoleBinding", "ClusterRole")


def _binding_row(binding: Mapping[str, Any], now: datetime) -> list[Any]:
    ref = binding.get("roleRef") or {}
    users: list[str] = []
    groups: list[str] = []
    accounts: list[str] = []
    for subject in binding.get("subjects") or []:
        kind, name = subject.get("kind"), subject.get("name", "")
        if kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
        elif kind == "ServiceAccount":
            accounts.append(f"{subject.get('namespace', '')}/{name}")
    return [_meta(binding).get("name", ""), f"{ref.get('kind', '')}/{ref.get('name', '')}",
            _age(binding, now), ", ".join(users), ", ".join(groups), ", ".join(accounts)]
