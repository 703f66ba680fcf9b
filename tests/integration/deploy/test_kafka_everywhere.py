"""One Kafka everywhere: the release and settings the tests run are the ones deployed (issue 19).

deploy/kafka/pom.xml's ``kafka.version`` is the one home of the version (``make install`` fetches
that release for the tests and ``tally06 up``); ``tally06.stack.embedded.kafka.CLUSTER_SETTINGS``
is the one home of a cluster's settings (the three-node test cluster runs with them). The brokers
of docker-compose.yml and the Strimzi cluster of deploy/k8s/kafka must say the same, so none of
the three can drift.

Strimzi's custom resources have no schema in kubernetes-validate: they are validated against the
structure of the kafka.strimzi.io/v1 resources they use (required fields, known keys, enums, no
unknown key where this file gives the keys); every other manifest there strictly, as in
test_manifests.py.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tally06.stack.embedded.kafka import CLUSTER_SETTINGS, ONE_MACHINE_SETTINGS, EmbeddedKafka, Voter

ROOT = Path(__file__).resolve().parents[3]
POM = ROOT / "deploy" / "kafka" / "pom.xml"
K8S = ROOT / "deploy" / "k8s"
K8S_KAFKA = K8S / "kafka"
STRIMZI_GROUP = "kafka.strimzi.io"
BROKERS = ("kafka1", "kafka2", "kafka3")
# Where each broker's named volume is mounted in docker-compose.yml: its log must be there.
COMPOSE_LOG_DIR = "/var/lib/kafka/data"

_LISTENER = {
    "type": "object", "additionalProperties": False, "required": ["name", "port", "type", "tls"],
    "properties": {"name": {"type": "string", "pattern": "^[a-z0-9]{1,11}$"},
                   "port": {"type": "integer", "minimum": 9092},
                   "type": {"enum": ["internal", "route", "loadbalancer", "nodeport", "ingress", "cluster-ip"]},
                   "tls": {"type": "boolean"}, "authentication": {"type": "object"},
                   "configuration": {"type": "object"}, "networkPolicyPeers": {"type": "array"}},
}
_METADATA = {"type": "object", "required": ["name"],
             "properties": {"name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}}}
_RESOURCES = {"type": "object", "additionalProperties": False,
              "properties": {"requests": {"type": "object"}, "limits": {"type": "object"}}}
STRIMZI_SCHEMAS = {
    "Kafka": {
        "type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": f"{STRIMZI_GROUP}/v1"}, "kind": {"const": "Kafka"}, "metadata": _METADATA,
            "spec": {
                "type": "object", "additionalProperties": False, "required": ["kafka"],
                "properties": {
                    "kafka": {
                        "type": "object", "additionalProperties": False, "required": ["listeners"],
                        "properties": {
                            "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
                            "metadataVersion": {"type": "string", "pattern": r"^\d+\.\d+-IV\d+$"},
                            "listeners": {"type": "array", "minItems": 1, "items": _LISTENER},
                            "config": {"type": "object", "additionalProperties": {"type": ["string", "integer", "boolean", "number"]}},
                            "resources": _RESOURCES, "jvmOptions": {"type": "object"}, "template": {"type": "object"},
                            "authorization": {"type": "object"}, "rack": {"type": "object"},
                            "metricsConfig": {"type": "object"}, "logging": {"type": "object"},
                        },
                    },
                    "entityOperator": {"type": "object"}, "cruiseControl": {"type": "object"},
                    "kafkaExporter": {"type": "object"}, "clusterCa": {"type": "object"}, "clientsCa": {"type": "object"},
                },
            },
        },
    },
    "KafkaNodePool": {
        "type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": f"{STRIMZI_GROUP}/v1"}, "kind": {"const": "KafkaNodePool"},
            "metadata": {**_METADATA, "required": ["name", "labels"]},
            "spec": {
                "type": "object", "additionalProperties": False, "required": ["replicas", "roles", "storage"],
                "properties": {
                    "replicas": {"type": "integer", "minimum": 0},
                    "roles": {"type": "array", "minItems": 1, "uniqueItems": True,
                              "items": {"enum": ["controller", "broker"]}},
                    "storage": {
                        "type": "object", "required": ["type"],
                        "properties": {
                            "type": {"enum": ["ephemeral", "persistent-claim", "jbod"]},
                            "volumes": {"type": "array", "items": {
                                "type": "object", "additionalProperties": False, "required": ["id", "type"],
                                "properties": {"id": {"type": "integer"},
                                               "type": {"enum": ["ephemeral", "persistent-claim"]},
                                               "size": {"type": "string"}, "class": {"type": "string"},
                                               "deleteClaim": {"type": "boolean"},
                                               "kraftMetadata": {"enum": ["shared"]}}}},
                        },
                    },
                    "resources": _RESOURCES, "jvmOptions": {"type": "object"}, "template": {"type": "object"},
                },
            },
        },
    },
}


def pom_kafka_version() -> str:
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    root = ET.parse(POM).getroot()
    version = root.findtext("m:properties/m:kafka.version", namespaces=namespace)
    assert version, "deploy/kafka/pom.xml has no kafka.version"
    # The property is what the broker artifact is fetched by, not a number beside it.
    artifacts = {d.findtext("m:artifactId", namespaces=namespace): d.findtext("m:version", namespaces=namespace)
                 for d in root.iterfind("m:dependencies/m:dependency", namespace)}
    assert artifacts["kafka_2.13"] == "${kafka.version}"
    return version


def image_env_name(prop: str) -> str:
    """The apache/kafka image's variable for a property: '.' is '_', '_' is '__', '-' is '___'."""
    return "KAFKA_" + prop.replace("-", "___").replace("_", "__").replace(".", "_").upper()


def as_property(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def kafka_manifests() -> list[tuple[Path, dict]]:
    return [(path, doc) for path in sorted(K8S_KAFKA.glob("*.yaml")) if path.name != "kustomization.yaml"
            for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def strimzi() -> dict[str, dict]:
    found = {doc["kind"]: doc for _, doc in kafka_manifests() if doc["apiVersion"].startswith(f"{STRIMZI_GROUP}/")}
    assert set(found) == {"Kafka", "KafkaNodePool"}
    return found


def test_the_pom_pins_the_release_make_install_fetches() -> None:
    version = pom_kafka_version()
    assert version.split(".")[0] == "4"
    listed = (ROOT / "deploy" / "kafka" / "jars.sha256").read_text().split()
    assert f"kafka_2.13-{version}.jar" in listed and f"kafka-clients-{version}.jar" in listed


def test_compose_brokers_run_the_pom_release(compose: dict) -> None:
    version = pom_kafka_version()
    for name in BROKERS:
        assert compose["services"][name]["image"] == f"apache/kafka:{version}", name


def test_compose_brokers_are_configured_as_a_cluster_node_of_the_tests(compose: dict) -> None:
    """Every KAFKA_* variable is a property the tests' cluster nodes set, with the same value.

    The expected properties come from EmbeddedKafka itself (a node of three, CLUSTER_SETTINGS),
    less ONE_MACHINE_SETTINGS: those bend timeouts and sizes for a laptop; production keeps
    Kafka's defaults.
    """
    voters = tuple(Voter(i, name, 9093) for i, name in enumerate(BROKERS, start=1))
    volumes = {v.split(":", 1)[0]: v.split(":", 1)[1] for name in BROKERS for v in compose["services"][name]["volumes"]}
    for node_id, name in enumerate(BROKERS, start=1):
        node = EmbeddedKafka(9092, Path("/unused"), host=name, controller_port=9093, node_id=node_id,
                             voters=voters, settings=CLUSTER_SETTINGS)
        expected = {image_env_name(k): v for k, v in node.server_properties().items()
                    if k not in ONE_MACHINE_SETTINGS or k in CLUSTER_SETTINGS}
        env = {k: as_property(v) for k, v in compose["services"][name]["environment"].items() if k.startswith("KAFKA_")}
        assert set(env) == set(expected), (name, sorted(set(env) ^ set(expected)))
        # Where they must differ: a container listens on every interface, its log is on its volume.
        assert env.pop("KAFKA_LISTENERS") == "PLAINTEXT://:9092,CONTROLLER://:9093"
        assert env.pop("KAFKA_LOG_DIRS") == COMPOSE_LOG_DIR == volumes[name]
        del expected["KAFKA_LISTENERS"], expected["KAFKA_LOG_DIRS"]
        assert env == expected, name
    # The brief's mapping, spelled out once: the settings, a.b.c -> KAFKA_A_B_C.
    env = compose["services"]["kafka1"]["environment"]
    for prop, value in CLUSTER_SETTINGS.items():
        assert as_property(env["KAFKA_" + prop.replace(".", "_").upper()]) == value, prop
    # The static quorum is formatted with one cluster id, shared by the three.
    assert len({compose["services"][name]["environment"]["CLUSTER_ID"] for name in BROKERS}) == 1


def test_every_kafka_manifest_validates() -> None:
    """Core kinds strictly against Kubernetes' schemas; Strimzi's against their structure."""
    manifests = kafka_manifests()
    assert manifests
    for path, doc in manifests:
        if doc["apiVersion"].startswith(f"{STRIMZI_GROUP}/"):
            errors = list(jsonschema.Draft202012Validator(STRIMZI_SCHEMAS[doc["kind"]]).iter_errors(doc))
            assert not errors, f"{path.name} {doc['kind']}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors)
        else:
            kubernetes_validate.validate(doc, "1.30", strict=True)
    # The structure is strict where it names the keys: a typo fails, as does a missing field.
    kafka = next(doc for _, doc in manifests if doc["kind"] == "Kafka")
    validator = jsonschema.Draft202012Validator(STRIMZI_SCHEMAS["Kafka"])
    typo = json.loads(json.dumps(kafka))
    typo["spec"]["kafka"]["listener"] = typo["spec"]["kafka"].pop("listeners")
    assert list(validator.iter_errors(typo))
    # Every manifest under deploy/k8s is checked: the application's by test_manifests.py, these here.
    assert {p.parent for p in K8S.rglob("*.yaml")} == {K8S, K8S_KAFKA}


def test_kafka_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S_KAFKA / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization" and kustomization["namespace"] == "kafka"
    assert set(kustomization["resources"]) == {p.name for p in K8S_KAFKA.glob("*.yaml")} - {"kustomization.yaml"}
    for _, doc in kafka_manifests():
        assert doc["metadata"].get("namespace", "kafka") == "kafka" or doc["kind"] == "Namespace"


def test_strimzi_cluster_runs_the_pom_release_with_the_cluster_settings(strimzi: dict[str, dict], compose: dict) -> None:
    version = pom_kafka_version()
    kafka, pool = strimzi["Kafka"], strimzi["KafkaNodePool"]
    assert kafka["spec"]["kafka"]["version"] == version
    major, minor, _ = version.split(".")
    assert kafka["spec"]["kafka"]["metadataVersion"].startswith(f"{major}.{minor}-")
    config = {k: as_property(v) for k, v in kafka["spec"]["kafka"]["config"].items()}
    assert config == dict(CLUSTER_SETTINGS)
    # KRaft: the pool's nodes are brokers and controllers of this cluster, as many as the
    # replication factor asks and as compose runs, each with a log on a persistent volume.
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert pool["spec"]["replicas"] == int(CLUSTER_SETTINGS["default.replication.factor"]) == len(BROKERS)
    volumes = pool["spec"]["storage"]["volumes"]
    assert all(v["type"] == "persistent-claim" and v["deleteClaim"] is False for v in volumes)
    assert [v.get("kraftMetadata") for v in volumes].count("shared") == 1
    # The services' bootstrap address is the Service Strimzi makes for the plain listener.
    (plain,) = [listener for listener in kafka["spec"]["kafka"]["listeners"] if not listener["tls"]]
    namespace = kafka["metadata"]["namespace"]
    configmap = yaml.safe_load((K8S / "configmap.yaml").read_text())
    assert configmap["data"]["KAFKA_BOOTSTRAP"] == f"{kafka['metadata']['name']}-kafka-bootstrap.{namespace}.svc:{plain['port']}"
    assert configmap["data"]["TALLY06_TOPIC_REPLICATION_FACTOR"] == CLUSTER_SETTINGS["default.replication.factor"]
    assert compose["services"]["init"]["environment"]["TALLY06_TOPIC_REPLICATION_FACTOR"] == CLUSTER_SETTINGS["default.replication.factor"]
