"""Fixtures: a running simulator, a GraphQL client and a local webhook receiver."""

import pytest

from .helpers import GraphQLClient, Receiver, make_simulator


@pytest.fixture
def sim():
    simulator = make_simulator()
    yield simulator
    simulator.stop()


@pytest.fixture
def gql(sim) -> GraphQLClient:
    return GraphQLClient(sim.url)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


# pytest-odoo (in requirements-test.txt) loads an Odoo registry and may start
# Odoo's HTTP server before every test through these autouse fixtures. The
# simulator's tests need neither, so they override them here: they run with or
# without Odoo, a database, or the plugin.
@pytest.fixture(scope="session", autouse=True)
def load_registry():
    yield


@pytest.fixture(scope="session", autouse=True)
def load_http():
    yield
