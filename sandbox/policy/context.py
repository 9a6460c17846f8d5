"""What a decision may depend on besides the command: where it runs and which daemon is ours."""

from __future__ import annotations

from dataclasses import dataclass


# Every environment variable that points docker at a daemon or changes how it
# reaches one (DOCKER_CONFIG too: its config.json names the current context).
# The launcher records and scrubs these; the stub and guard judge them.
DAEMON_VARIABLES = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY")
# The ones that choose the daemon by themselves, as a `VAR=... docker` prefix.
DAEMON_SELECTORS = ("DOCKER_HOST", "DOCKER_CONTEXT")

DEFAULT_DOCKER_HOSTS = frozenset({"unix:///var/run/docker.sock", "unix:///run/docker.sock"})


@dataclass(frozen=True)
class Context:
    cwd: str = "/"
    project_dir: str = "/"
    home: str = "/root"
    # The daemon the session was started against (recorded before scrubbing).
    docker_host: str | None = None
    docker_context: str | None = None
    # Set while judging what `ssh HOST CMD` runs there: paths are that host's, not the project's.
    remote_host: str | None = None

    def is_our_docker_host(self, host: str) -> bool:
        if self.docker_host:
            return host.rstrip("/") == self.docker_host.rstrip("/")
        return self.docker_context in (None, "default") and host in DEFAULT_DOCKER_HOSTS

    def is_our_docker_context(self, name: str) -> bool:
        return name == (self.docker_context or "default")
