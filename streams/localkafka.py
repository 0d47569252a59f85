"""A single-node Apache Kafka broker (KRaft mode) on 127.0.0.1, for the demo, tests and CI.

The official broker jars (``org.apache.kafka:kafka_2.13``) are fetched once with
Maven into a cache directory; later starts reuse them. ``start`` formats KRaft
storage on first use, launches ``kafka.Kafka`` with a generated
``server.properties`` and waits until the broker answers; ``stop`` ends it by its
pid file.

    riskstream kafka start --port 9092
    riskstream kafka status
    riskstream kafka stop
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

KAFKA_VERSION = "3.9.1"
SCALA_VERSION = "2.13"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>riskstream</groupId>
  <artifactId>local-kafka</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{scala}</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
"""

_LOG4J = """log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File={log}
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
"""


def new_cluster_id() -> str:
    """A random KRaft cluster id, as ``kafka-storage random-uuid`` makes one: URL-safe
    base64 of a UUID, never starting with ``-`` (the format tool would take it for an
    option and fail, about one start in 64).

    >>> ids = [new_cluster_id() for _ in range(500)]
    >>> all(len(i) == 22 and not i.startswith("-") for i in ids)
    True
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


class LocalKafkaError(RuntimeError):
    """The local broker could not be fetched, started or stopped."""


def cache_dir() -> Path:
    """Where jars and the default broker data live (``RISKSTREAM_CACHE``)."""
    return Path(os.environ.get("RISKSTREAM_CACHE", Path.home() / ".cache" / "riskstream"))


@dataclass(frozen=True)
class LocalKafka:
    """One local broker: its port and its data directory.

    >>> k = LocalKafka(port=19092, data_dir=Path("/tmp/k"))
    >>> k.bootstrap, k.controller_port
    ('127.0.0.1:19092', 19093)
    """

    port: int = 9092
    data_dir: Path = cache_dir() / "kafka-data"
    partitions: int = 4
    heap: str = "768m"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def controller_port(self) -> int:
        return self.port + 1

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "kafka.log"

    def pid(self) -> int | None:
        """The broker's pid if it is running, else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        _reap(pid)  # a broker this process started and that died is a zombie until then
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def answers(self) -> bool:
        """True when something accepts connections on the broker port."""
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def _properties(self) -> str:
        logs = self.data_dir / "logs"
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                f"CONTROLLER://127.0.0.1:{self.controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                f"log.dirs={logs}",
                f"num.partitions={self.partitions}",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=8",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=true",
                "log.retention.hours=24",
                "",
            ]
        )

    def start(self, timeout_s: float = 90.0) -> int:
        """Start the broker unless it already runs; return its pid."""
        running = self.pid()
        if running is not None:
            return running
        if self.answers():
            raise LocalKafkaError(
                f"port {self.port} is taken by another process; "
                "choose another with --port or RISKSTREAM_KAFKA_PORT"
            )
        java = shutil.which("java")
        if java is None:
            raise LocalKafkaError(
                "java not found: install a JRE 17+ (Debian: openjdk-17-jre-headless)")
        libs = fetch_jars()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = self.data_dir / "server.properties"
        props.write_text(self._properties())
        log4j = self.data_dir / "log4j.properties"
        log4j.write_text(_LOG4J.format(log=self.data_dir / "server.log"))
        classpath = f"{libs}/*"
        if not (self.data_dir / "logs" / "meta.properties").exists():
            cluster_id = new_cluster_id()
            fmt = subprocess.run(
                [java, f"-Dlog4j.configuration=file:{log4j}", "-cp", classpath,
                 "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)],
                capture_output=True, text=True, check=False,
            )
            if fmt.returncode != 0:
                raise LocalKafkaError(f"formatting KRaft storage failed: {fmt.stderr[-2000:]}")
        with self.log_file.open("ab") as out:
            proc = subprocess.Popen(
                [java, f"-Xmx{self.heap}", f"-Xms{self.heap}", "-XX:+UseG1GC",
                 "-Djava.awt.headless=true", f"-Dlog4j.configuration=file:{log4j}",
                 "-cp", classpath, "kafka.Kafka", str(props)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise LocalKafkaError(
                        f"broker exited with code {proc.returncode}; see {self.log_file} "
                        f"and {self.data_dir / 'server.log'}"
                    )
                if self.answers() and _started(self.data_dir / "server.log"):
                    return proc.pid
                time.sleep(0.25)
        except KeyboardInterrupt:  # Ctrl-C (or a SIGTERM made one) while it starts: its own
            self.stop()            # session keeps it from the signal, so stop it here
            raise
        self.stop()
        raise LocalKafkaError(f"broker did not answer within {timeout_s:.0f}s; see {self.log_file}")

    def stop(self, timeout_s: float = 30.0) -> bool:
        """Stop the broker if it runs; True when one was stopped."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            _reap(pid)
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True


def sigterm_as_ctrl_c() -> None:
    """From now on SIGTERM stops this process as Ctrl-C does (a SIGINT: inside the event
    loop it cancels the running task, outside it raises KeyboardInterrupt), so the
    brokers and workers a command started are stopped on the way out. By default a
    SIGTERM (``timeout``, a CI job cancelled, ``kill``) ends Python at once, and a
    broker in a session of its own lives on."""
    signal.signal(signal.SIGTERM, lambda signum, frame: signal.raise_signal(signal.SIGINT))


def _reap(pid: int) -> None:
    """Collect a child we started in this process, so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return


def _started(server_log: Path) -> bool:
    try:
        return "Kafka Server started" in server_log.read_text(errors="replace")
    except FileNotFoundError:
        return False


def fetch_jars() -> Path:
    """Fetch the broker jars with Maven once; return the directory that holds them."""
    home = cache_dir() / f"kafka_{SCALA_VERSION}-{KAFKA_VERSION}"
    libs = home / "libs"
    stamp = home / ".complete"
    if stamp.exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalKafkaError(
            "mvn not found: install Maven (Debian: maven) to fetch the Kafka jars")
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_text(_POM.format(scala=SCALA_VERSION, kafka=KAFKA_VERSION))
    run = subprocess.run(
        [mvn, "-q", "-B", "-f", str(home / "pom.xml"), "dependency:copy-dependencies",
         f"-DoutputDirectory={libs}", "-DincludeScope=runtime"],
        capture_output=True, text=True, check=False,
    )
    if run.returncode != 0:
        raise LocalKafkaError(f"maven could not fetch the Kafka jars:\n{run.stdout[-3000:]}")
    stamp.write_text(KAFKA_VERSION)
    return libs
