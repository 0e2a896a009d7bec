pytest_plugins = [
    "tests.fixtures.simulator",
]
