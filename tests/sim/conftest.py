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
