pytest_plugins = ["harness.plugin", "harness.repair_plugin"]
