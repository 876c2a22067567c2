"""Server (provisioning) modules: create, suspend, unsuspend, terminate a service."""

from modules.servers.base import ServerModule

__all__ = ["ServerModule"]
