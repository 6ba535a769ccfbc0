"""docker/ stays the third way in, consistent with bin/odoo-env.sh: the same Odoo series,
the same requirements files, and base images pinned to an exact release."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
OUR_IMAGES = re.compile(r"^pico-mes/")
EXACT = re.compile(r"^[\w./-]+(:[\w.-]*\d+\.\d+[\w.-]*)?(@sha256:[0-9a-f]{64})?$")


ODOO_ENV = (REPO / "bin" / "odoo-env.sh").read_text()
SERIES = re.search(r"ODOO_SERIES_SUPPORTED=\(([\d. ]+)\)", ODOO_ENV)[1].split()
DEFAULT_SERIES = re.search(r'ODOO_BRANCH="\$\{ODOO_BRANCH:-([\d.]+)\}"', ODOO_ENV)[1]


def base_images():
    images = []
    for dockerfile in DOCKER.glob("*.Dockerfile"):
        stages = set()
        for line in dockerfile.read_text().splitlines():
            match = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
            if match:
                # a stage named by the series: one of the stages above, each series
                named = {match[1].replace("${ODOO_SERIES}", s) for s in SERIES}
                if not named <= stages:
                    images.append(match[1])
                stages.add(match[2])
    compose = (DOCKER / "docker-compose.yml").read_text()
    images += re.findall(r"^\s*image:\s*(\S+)", compose, re.MULTILINE)
    return [image for image in images if not OUR_IMAGES.match(image)]


def test_every_base_image_is_pinned_to_an_exact_release():
    images = base_images()
    assert images, "no base image found"
    for image in images:
        tagged = ":" in image.split("/")[-1] or "@sha256:" in image
        assert tagged and EXACT.match(image), f"{image} is not pinned to a release"


def test_the_images_run_the_odoo_series_of_the_local_set_up():
    odoo_images = [i for i in base_images() if i.startswith("odoo:")]
    assert sorted(i.split(":")[1].split("-")[0] for i in odoo_images) == SERIES
    dockerfile = (DOCKER / "odoo.Dockerfile").read_text()
    assert f"ARG ODOO_SERIES={DEFAULT_SERIES}" in dockerfile
    compose = (DOCKER / "docker-compose.yml").read_text()
    defaults = set(re.findall(r"\$\{ODOO_SERIES:-([\d.]+)\}", compose))
    assert defaults == {DEFAULT_SERIES}


def test_the_images_install_the_same_requirements_files():
    odoo_image = (DOCKER / "odoo.Dockerfile").read_text()
    assert "-r /tmp/pico_mes/requirements.txt" in odoo_image
    assert "-r /tmp/pico_mes/requirements-test.txt" in odoo_image
    simulator = (DOCKER / "pico-sim.Dockerfile").read_text()
    assert "-r /tmp/pico_sim/requirements.txt" in simulator


def test_the_balancer_of_the_nodes_profile_spreads_over_both_nodes():
    """docker/nodes-balancer.conf: the web client and PICO's webhooks over both
    nodes; a webhook (stored once under its key) may go to the other node when
    one is down, a web client POST never is sent twice."""
    balancer = (DOCKER / "nodes-balancer.conf").read_text()
    upstreams = dict(re.findall(r"upstream (\w+) \{([^}]*)\}", balancer))
    assert set(re.findall(r"server (\S+);", upstreams["odoo_http"])) == {
        "odoo-node-1:8069",
        "odoo-node-2:8069",
    }
    assert set(re.findall(r"server (\S+);", upstreams["odoo_websocket"])) == {
        "odoo-node-1:8072",
        "odoo-node-2:8072",
    }
    locations = dict(re.findall(r"location (\S+) \{([^}]*)\}", balancer))
    assert "non_idempotent" in locations["/pico_mes/webhook"]
    assert "non_idempotent" not in locations["/"]
    assert "http://odoo_websocket" in locations["/websocket"]
    compose = (DOCKER / "docker-compose.yml").read_text()
    assert "./nodes-balancer.conf:/etc/nginx/conf.d/default.conf:ro" in compose
