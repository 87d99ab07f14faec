"""Identities and RBAC authorization, as kube-apiserver's authenticator and RBAC authorizer
see them. Pure logic (no store, no HTTP): the API server feeds it request attributes and the
RBAC objects it holds, and turns a denial into the 403 `Status` a real cluster sends.
"""
