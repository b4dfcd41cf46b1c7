"""Root test configuration: shared fixtures live in tests/plugins/."""

pytest_plugins = [
    "tests.plugins.simulator",
    "tests.plugins.mosquitto",
]
