"""Who does something: an admin, an API credential or the system (a job, a sweep)."""

from dataclasses import dataclass

from models import ActorType


@dataclass(frozen=True)
class Actor:
    type: str  # models.vocab.ActorType
    id: int | None = None
    name: str = ""

    @classmethod
    def admin(cls, user) -> "Actor":
        return cls(ActorType.ADMIN, user.id, str(user))

    @classmethod
    def api(cls, credential) -> "Actor":
        return cls(ActorType.API, credential.id, credential.identifier)

    @classmethod
    def system(cls, name: str = "System") -> "Actor":
        return cls(ActorType.SYSTEM, None, name)


SYSTEM = Actor.system()
