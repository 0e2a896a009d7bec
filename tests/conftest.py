pytest_plugins = [
    "tests.fixtures.databases",
    "tests.fixtures.redis",
    "tests.fixtures.simulator",
    "tests.fixtures.stack",
    "tests.fixtures.practice",
    "tests.fixtures.webhooks",
]
