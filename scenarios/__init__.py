"""The drills: one module per section of the Kubernetes ZooKeeper tutorial.

Installed with the package, so ``pytest --pyargs scenarios -m drain --cluster=kube ...``
runs them from any directory. They import ``harness.drill`` only (an import contract in
``pyproject.toml`` checks it).
"""
