"""Accept Order (DESIGN.md §4): order -> Active; pending items per the admin's options.

    accept_order(session, order, options: AcceptOptions | None, actor, expected_version=None) -> Order

Options per pending service (ServiceAcceptOptions; every field None = the default):
    server_id           default: the service's server, else the product's default server
    username, password  default: kept; generated when a module create runs and none is set
    run_module_create   default from the product's auto_setup: on_accept -> True, never -> False,
                        on_order / on_payment -> True only if no create has run or is under way
    send_welcome_email  default True
  With create: a module_create side effect; the service stays Pending until it succeeds (then
  Active + the welcome email if asked). Without: the service is Active now (+ the welcome email).
Options per pending domain (DomainAcceptOptions):
    registrar           default: the domain's registrar
    send_to_registrar   default: True when there is a registrar
  Sent: Pending Registration / Pending Transfer + a domain_register / domain_transfer side effect.
  Not sent: Active now.
Only items in status Pending are touched; the invoice is unchanged. An upgrade order whose invoice
is Paid (a 0.00 one at once) gets its change applied (actions.apply_upgrade), once. Flushes, never commits.
"""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.addon_transitions import AddonAcceptOptions, accept_addons
from actions.apply_upgrade import request_apply
from actions.locking import lock_order, order_action
from actions.side_effects import record_module_create, record_side_effect, record_welcome_email
from actions.transitions import TRANSITIONS, Action, ErrorCode, TransitionError
from models import (
    AutoSetup,
    Domain,
    DomainOrderType,
    DomainStatus,
    InvoiceStatus,
    Order,
    OrderKind,
    Server,
    Service,
    ServiceStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    utcnow,
)
from modules.registry import REGISTRARS


@dataclass
class ServiceAcceptOptions:
    server_id: int | None = None
    username: str | None = None
    password: str | None = None
    run_module_create: bool | None = None
    send_welcome_email: bool | None = None


@dataclass
class DomainAcceptOptions:
    registrar: str | None = None
    send_to_registrar: bool | None = None


@dataclass
class AcceptOptions:
    services: dict[int, ServiceAcceptOptions] = field(default_factory=dict)  # by service id
    domains: dict[int, DomainAcceptOptions] = field(default_factory=dict)  # by domain id
    addons: dict[int, AddonAcceptOptions] = field(default_factory=dict)  # by service_addons id


_STARTED = (SideEffectStatus.QUEUED, SideEffectStatus.RUNNING, SideEffectStatus.SUCCEEDED)


def started_module_creates(session: Session, order_id: int) -> set[int]:
    """Ids of the order's services whose module create is queued, running or done: one range of the
    order's own side effects (the (order_id, id) index), however big the outbox."""
    return module_creates_started(session.execute(
        select(SideEffect.kind, SideEffect.status, SideEffect.target_id).where(
            SideEffect.order_id == order_id, SideEffect.kind == SideEffectKind.MODULE_CREATE)))


def module_creates_started(order_side_effects) -> set[int]:
    """started_module_creates from the order's side effects already read (the order page's list):
    anything with their kind, status and target_id."""
    return {effect.target_id for effect in order_side_effects
            if effect.kind == SideEffectKind.MODULE_CREATE and effect.status in _STARTED}


def default_run_module_create(session: Session, service: Service, started: set[int] | None = None) -> bool:
    """`started`: started_module_creates of the service's order, when the caller asks for many."""
    setup = service.product.auto_setup
    if setup == AutoSetup.NEVER:
        return False
    if setup == AutoSetup.ON_ACCEPT:
        return True
    if started is None:
        started = started_module_creates(session, service.order_id)
    return service.id not in started


@dataclass
class _ServicePlan:
    service: Service
    server_id: int | None
    create: bool
    welcome: bool
    username: str | None
    password: str | None


@dataclass
class _DomainPlan:
    domain: Domain
    registrar: str
    send: bool


def _plan(
    session: Session, order: Order, options: AcceptOptions
) -> tuple[list[_ServicePlan], list[_DomainPlan]]:
    """Validate every option before anything changes."""
    services, domains = [], []
    for service in order.services:
        if service.status != ServiceStatus.PENDING:
            continue
        opt = options.services.get(service.id) or ServiceAcceptOptions()
        server_id = opt.server_id or service.server_id or service.product.default_server_id
        if opt.server_id is not None and session.get(Server, opt.server_id) is None:
            raise TransitionError(ErrorCode.INVALID_OPTION, f"Server {opt.server_id} does not exist")
        create = opt.run_module_create
        if create is None:
            create = default_run_module_create(session, service)
        welcome = True if opt.send_welcome_email is None else opt.send_welcome_email
        services.append(_ServicePlan(service, server_id, create, welcome, opt.username, opt.password))
    for domain in order.domains:
        if domain.status != DomainStatus.PENDING:
            continue
        opt = options.domains.get(domain.id) or DomainAcceptOptions()
        registrar = opt.registrar if opt.registrar is not None else domain.registrar
        send = bool(registrar) if opt.send_to_registrar is None else opt.send_to_registrar
        if send and registrar not in REGISTRARS:
            raise TransitionError(
                ErrorCode.INVALID_OPTION,
                f"Choose a registrar to send {domain.name} to"
                if not registrar
                else f"Unknown registrar {registrar!r}",
            )
        domains.append(_DomainPlan(domain, registrar, send))
    return services, domains


def _accept_service(session: Session, order: Order, plan: _ServicePlan) -> dict:
    service = plan.service
    service.server_id = plan.server_id
    if plan.username:
        service.username = plan.username
    if plan.password:
        service.password = plan.password
    change = {
        "id": service.id,
        "from": service.status,
        "run_module_create": plan.create,
        "send_welcome_email": plan.welcome,
    }
    if plan.create:
        effect = record_module_create(
            session, service, server_id=plan.server_id, send_welcome_email=plan.welcome
        )
        # The service stays Pending until the create succeeds.
        change.update(to=service.status, side_effect_id=effect.id)
        return change
    service.status = ServiceStatus.ACTIVE
    service.registration_date = service.registration_date or utcnow().date()
    if plan.welcome:
        change["email_side_effect_id"] = record_welcome_email(session, service).id
    change["to"] = service.status
    return change


def _accept_domain(session: Session, order: Order, plan: _DomainPlan) -> dict:
    domain = plan.domain
    change = {
        "id": domain.id,
        "from": domain.status,
        "registrar": plan.registrar,
        "send_to_registrar": plan.send,
    }
    domain.registrar = plan.registrar
    if plan.send:
        transfer = domain.type == DomainOrderType.TRANSFER
        domain.status = DomainStatus.PENDING_TRANSFER if transfer else DomainStatus.PENDING_REGISTRATION
        kind = SideEffectKind.DOMAIN_TRANSFER if transfer else SideEffectKind.DOMAIN_REGISTER
        effect = record_side_effect(
            session,
            kind=kind,
            order_id=order.id,
            target_type="domain",
            target_id=domain.id,
            payload={"registrar": plan.registrar},
        )
        change["side_effect_id"] = effect.id
    else:
        domain.status = DomainStatus.ACTIVE
        domain.registration_date = domain.registration_date or utcnow().date()
    change["to"] = domain.status
    return change


def send_to_registrar(session: Session, order: Order, domain: Domain, registrar: str) -> dict:
    """A pending domain's register / transfer side effect, as accepting with Send to Registrar
    records it (the paid-in-full automation sends domains the same way). The caller holds the
    order's lock."""
    return _accept_domain(session, order, _DomainPlan(domain, registrar, True))


@order_action
def accept_order(
    session: Session,
    order: Order | int,
    options: AcceptOptions | None,
    actor: Actor,
    expected_version: int | None = None,
) -> Order:
    order = lock_order(session, order, expected_version)
    found = TRANSITIONS[Action.ACCEPT].refusal(session, order)
    if found:
        raise TransitionError.from_refusal(found)
    options = options or AcceptOptions()
    service_plans, domain_plans = _plan(session, order, options)
    from_status = order.status
    changes = {
        "services": [_accept_service(session, order, p) for p in service_plans],
        "domains": [_accept_domain(session, order, p) for p in domain_plans],
    }
    if order.addons:
        changes["addons"] = accept_addons(session, order, options.addons)
    if order.kind == OrderKind.UPGRADE and order.invoice and order.invoice.status == InvoiceStatus.PAID:
        applying = request_apply(session, order, actor)  # nothing to pay: accepting applies it
        changes["upgrade"] = {"side_effect_id": applying.id if applying else None}
    transition = TRANSITIONS[Action.ACCEPT]
    order.status = transition.order_to
    events.order_transitioned(session, order.id, actor, transition.verb, from_status, order.status, changes)
    session.flush()
    return order
