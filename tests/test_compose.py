"""docker-compose.yml describes a working Airflow deployment of the two DAGs (checked statically:
there may be no Docker engine where the tests run)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
WORKSPACE = "/opt/costledger/workspace"
AIRFLOW_SERVICES = {
    "airflow-init": None,
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $${...} is a literal $.
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])[^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    pairs = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f".env.example: {line!r} is not KEY=value"
            pairs[key.strip()] = value.strip()
    return pairs


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: str(value) for key, value in env.items()}


def _mount(volume: str) -> tuple[str, str]:
    """(container path, source) of a short-syntax volume; the source may hold ${VAR:-default}."""
    match = re.fullmatch(r"(?P<source>.+):(?P<target>/[^:]+)(?::(?:ro|rw))?", volume)
    assert match, f"unexpected volume {volume!r}"
    return match["target"], match["source"]


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def test_services_exist(compose):
    assert {"postgres", *AIRFLOW_SERVICES} <= set(compose["services"])


def test_postgres_is_healthchecked(compose):
    healthcheck = compose["services"]["postgres"]["healthcheck"]
    assert "pg_isready" in " ".join(healthcheck["test"])


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_service_mounts_dags_and_workspace(compose, name):
    service = compose["services"][name]
    targets = dict(_mount(volume) for volume in service["volumes"])
    assert targets.get("/opt/airflow/dags") == "./dags"
    assert WORKSPACE in targets
    for package_dir in ("pipeline", "sql", "expectations"):
        assert targets.get(f"/opt/costledger/src/{package_dir}") == f"./{package_dir}"
    env = _environment(service)
    assert env["COSTLEDGER_WORKSPACE"] == WORKSPACE
    assert "${COSTLEDGER_PSEUDONYM_KEY" in env["COSTLEDGER_PSEUDONYM_KEY"]  # tasks read labor files
    assert env["PYTHONPATH"] == "/opt/costledger/src"
    # LocalExecutor unless .env asks for Celery (with the `celery` profile).
    assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    # The metadata database is the postgres service, never SQLite.
    assert re.match(r"postgresql\+psycopg2://[^@]+@postgres:5432/", env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    # Tasks reach the API server by its service name; the JWT secret is shared by every component.
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert "${AIRFLOW_JWT_SECRET" in env["AIRFLOW__API_AUTH__JWT_SECRET"]


@pytest.mark.parametrize("name, command", [(n, c) for n, c in AIRFLOW_SERVICES.items() if c])
def test_long_running_services_run_their_component_after_init(compose, name, command):
    service = compose["services"][name]
    assert _command(service) == command
    assert service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert service["healthcheck"]["test"]


def test_apiserver_publishes_8080_and_checks_health(compose):
    service = compose["services"]["airflow-apiserver"]
    assert any(str(port).endswith(":8080") for port in service["ports"])
    assert any("/api/v2/" in part for part in service["healthcheck"]["test"])


def test_init_migrates_and_creates_the_pool_and_workspace(compose):
    # The pool the DAGs use, read from the source: importing it would start Airflow.
    assets = (REPO / "pipeline" / "orchestration" / "airflow_assets.py").read_text(encoding="utf-8")
    (WAREHOUSE_POOL,) = re.findall(r'^WAREHOUSE_POOL = "([^"]+)"$', assets, flags=re.M)
    init = compose["services"]["airflow-init"]
    script = _command(init)
    assert init["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "airflow db migrate" in script
    assert f"airflow pools set {WAREHOUSE_POOL} 1 " in script
    assert "Workspace.init" in script
    assert init.get("restart") == "no"


def test_env_example_defines_every_required_variable(env_example):
    text = COMPOSE.read_text(encoding="utf-8")
    used = {m.group(1): m.group(2) for m in VARIABLE.finditer(text)}
    required = {name for name, operator in used.items() if operator in (None, "?", ":?")}
    assert required, "expected some settings to come from .env"
    assert required <= set(env_example), f"missing from .env.example: {sorted(required - set(env_example))}"
    # The optional ones are documented there too.
    assert set(used) <= set(env_example), f"undocumented: {sorted(set(used) - set(env_example))}"


def test_env_example_holds_no_real_secrets(env_example):
    for key, value in env_example.items():
        if re.search(r"PASSWORD|SECRET|KEY", key):
            assert value in ("", "change-me"), f".env.example {key} must be a placeholder"


def _compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_docker_compose_config_accepts_the_file():
    command = _compose_command()
    if command is None:
        pytest.skip("neither the `docker compose` plugin nor `docker-compose` is installed")
    result = subprocess.run(
        [*command, "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable substitution: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
    ${VAR?error}, $VAR; $$ is a literal $. An unset required variable is an error, as in compose."""

    def substitute(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        operator, argument = match["operator"], match["argument"] or ""
        value = env.get(name)
        if operator in (":-", ":?") and value == "":
            value = None
        if value is not None:
            return value
        if operator in (":?", "?"):
            raise AssertionError(f"required variable {name} is unset: {argument}")
        return argument if operator in (":-", "-") else ""

    pattern = re.compile(
        r"(?P<escaped>\$\$)|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?])(?P<argument>[^}]*))?\}"
        r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
    )
    return pattern.sub(substitute, text)


@pytest.mark.parametrize("executor", ["LocalExecutor", "CeleryExecutor"])
def test_compose_file_is_valid_against_the_compose_specification(env_example, executor):
    """The whole file, interpolated with .env.example as `docker compose --env-file` would, parsed by
    a strict implementation of the Compose Specification (compose-spec: unknown keys, bad types,
    durations, ports, volume and network references are errors)."""
    from compose_spec import PyOptions

    text = _interpolate(COMPOSE.read_text(encoding="utf-8"), {**env_example, "AIRFLOW_EXECUTOR": executor})
    project = PyOptions(apply_merge=True).from_yaml(text)
    project.validate()
    assert {"postgres", "redis", "airflow-worker", *AIRFLOW_SERVICES} <= set(project.service_names())


def test_the_compose_validator_refuses_a_broken_file(env_example):
    from compose_spec import PyOptions

    text = _interpolate(COMPOSE.read_text(encoding="utf-8"), env_example)
    for broken in (
        text.replace("restart: always", "restart_policy: always", 1),  # unknown key
        text.replace("interval: 10s", "interval: ten seconds", 1),  # not a duration
        text.replace("condition: service_healthy", "condition: service_happy", 1),  # no such condition
    ):
        with pytest.raises(ValueError):
            PyOptions(apply_merge=True).from_yaml(broken).validate()


def test_celery_profile_scales_out_with_redis_and_healthchecked_workers(compose):
    services = compose["services"]
    assert services["redis"]["profiles"] == ["celery"]
    assert "redis-cli" in " ".join(services["redis"]["healthcheck"]["test"])
    worker = services["airflow-worker"]
    assert worker["profiles"] == ["celery"] and _command(worker) == "celery worker"
    assert "inspect ping" in " ".join(worker["healthcheck"]["test"])
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert worker["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    targets = dict(_mount(volume) for volume in worker["volumes"])
    assert targets.get("/opt/airflow/dags") == "./dags" and WORKSPACE in targets  # the same code and workspace
    # Without the profile the scheduler must still start: its wait for Redis is optional.
    assert services["airflow-scheduler"]["depends_on"]["redis"] == {"condition": "service_healthy", "required": False}
    assert "ports" not in services["redis"]  # the broker is not published on the host


def test_every_reference_names_something_defined(compose):
    """What the validator above leaves to `docker compose config`: depends_on names a service, a
    named volume is declared at the top level."""
    services, volumes = compose["services"], set(compose.get("volumes", {}))
    for name, service in services.items():
        assert set(service.get("depends_on", {})) <= set(services), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/", "$")):
                assert source in volumes, f"{name}: volume {source!r} is not declared"
