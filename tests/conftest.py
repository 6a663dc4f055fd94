"""Test set-up shared by every test module; fixtures live in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.common",
    "tests.fixtures.http",
    "tests.fixtures.media",
    "tests.fixtures.mariadb",
    "tests.fixtures.labelstudio",
    "tests.fixtures.models",
    "tests.fixtures.studydb",
]
