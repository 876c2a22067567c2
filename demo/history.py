"""The rows a plan leaves: what place_order, the payment, the actions and their side effects write.

Derived from the real code, not a second copy of it:
- the order, service, domain and invoice columns and the invoice lines come from the builders
  place_order uses (actions.place: order_fields, service_fields, domain_fields, invoice_lines,
  invoice_fields, placement_details), amounts from actions.pricing.price_cart (in the plan);
- Cancel, Cancel & Refund and Set as Fraud apply their row of actions.transitions.TRANSITIONS
  (item rules, invoice mapping, verb) after the row's guard (allowed_from) allows them;
- usernames are actions.side_effects.username_for, refundable amounts models.guards.refundable_payments,
  event details pass through actions.events.jsonable, and module messages are the modules' own.
tests/test_demo_replay.py replays plans through the real functions and compares every row.

Every side effect runs once and succeeds, as with the built-in manual modules. Left out on purpose
(they would more than double the rows at a million orders and show nothing an admin reviews): the
email history - email_log rows, their "email" side effects and those side effects' timeline events.
An accept's "email_side_effect_id" is therefore None.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from actions.actor import SYSTEM, Actor
from actions.events import Verb, jsonable
from actions.place import (
    created_on_placement,
    domain_fields,
    invoice_fields,
    invoice_lines,
    order_fields,
    placement_details,
    service_fields,
)
from actions.side_effects import username_for
from actions.transitions import TRANSITIONS, Action
from demo.addons import accept_addons, place_addons, transition_addons
from demo.bulk import Ids, Rows
from demo.catalog import ORDER_STATUSES, DemoCatalog
from demo.config_options import place_config_options
from demo.custom_fields import place_custom_fields
from demo.plans import DEMO_ADMIN, Accept, Cancel, ChangeStatus, OrderPlan, Pay, SetFraud
from models import (
    CORE_ORDER_STATUSES,
    AutoSetup,
    CustomFieldValue,
    Domain,
    DomainOrderType,
    DomainStatus,
    Invoice,
    InvoiceItem,
    InvoiceStatus,
    Order,
    OrderEvent,
    Service,
    ServiceAddon,
    ServiceConfigOption,
    ServiceStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    Transaction,
)
from models.guards import refundable_payments
from modules.registry import get_registrar_module, get_server_module

# Insert order (foreign keys first).
TABLES = [Invoice.__table__, Order.__table__, Service.__table__, ServiceConfigOption.__table__,
          ServiceAddon.__table__, CustomFieldValue.__table__, Domain.__table__, InvoiceItem.__table__,
          Transaction.__table__, SideEffect.__table__, OrderEvent.__table__]
PENDING_LIKE = {row["title"] for row in [*CORE_ORDER_STATUSES, *ORDER_STATUSES]
                if row.get("include_in_pending")}
WAITING_DOMAIN = {DomainStatus.PENDING, DomainStatus.PENDING_REGISTRATION, DomainStatus.PENDING_TRANSFER}
JOB_TIME = timedelta(seconds=2)  # from a side effect's recording to its success


class HistoryWriter:
    """Writes each plan's rows into one batch of `Rows` per table (TABLES)."""

    def __init__(self, catalog: DemoCatalog, ids: Ids):
        self.catalog, self.ids = catalog, ids
        self.rows = {table.name: Rows(table) for table in TABLES}
        self._messages: dict[tuple, str] = {}

    def write(self, plan: OrderPlan, number: int) -> None:
        _Order(self, plan, number).write()

    def flush(self, conn) -> None:
        for table in TABLES:
            self.rows[table.name].write(conn)

    def message(self, kind: str, module: str) -> str:
        """What the module answers on success (the built-in manual modules need no parameters)."""
        key = (kind, module)
        if key not in self._messages:
            calls = {
                SideEffectKind.MODULE_CREATE: lambda: get_server_module(module).create,
                SideEffectKind.MODULE_TERMINATE: lambda: get_server_module(module).terminate,
                SideEffectKind.DOMAIN_REGISTER: lambda: get_registrar_module(module).register,
                SideEffectKind.DOMAIN_TRANSFER: lambda: get_registrar_module(module).transfer,
            }
            result = calls[kind]()(None)
            if not result.success:
                raise ValueError(f"Demo side effects need modules that succeed; {module}: {result.message}")
            self._messages[key] = result.message
        return self._messages[key]


@dataclass
class _Effect:
    row: dict
    outcome: object  # called when the side effect succeeds; returns the item change or None
    message: str


@dataclass
class _Order:
    """One order's rows while its plan is played."""

    writer: HistoryWriter
    plan: OrderPlan
    number: int
    services: list[dict] = field(default_factory=list)
    domains: list[dict] = field(default_factory=list)
    addons: list[dict] = field(default_factory=list)
    transactions: list[dict] = field(default_factory=list)
    queued: list[_Effect] = field(default_factory=list)

    def write(self) -> None:
        self._place()
        for step in self.plan.steps:
            if isinstance(step, Pay):
                self._pay(step)
            elif isinstance(step, Accept):
                self._accept(step)
            elif isinstance(step, Cancel):
                self._transition(Action.CANCEL_AND_REFUND if step.refund else Action.CANCEL, step.at, step)
            elif isinstance(step, SetFraud):
                self._transition(Action.SET_FRAUD, step.at, step)
            elif isinstance(step, ChangeStatus):
                self._change_status(step)
            self._run_side_effects(step.at)

    def _add(self, table, **values) -> dict:
        rows = self.writer.rows[table.name]
        return rows.add(id=self.writer.ids.take(table), **values)

    # --- placing (actions.place.place_order) -------------------------------------------------------

    def _place(self) -> None:
        plan, quote, promotion, at = self.plan, self.plan.quote, self.plan.promotion, self.plan.placed_at
        today, client_id = at.date(), plan.cart.client_id
        self.order = self._add(Order.__table__, order_number=self.number, date=at,
                               **order_fields(plan.cart, plan.options, quote, promotion))
        order_id = self.order["id"]
        for item in quote.services:
            self.services.append(self._add(Service.__table__, order_id=order_id, client_id=client_id,
                                           created_at=at, **service_fields(item, promotion, today)))
        for item in quote.domains:
            self.domains.append(self._add(Domain.__table__, order_id=order_id, client_id=client_id,
                                          created_at=at, **domain_fields(item, plan.cart, promotion, today)))
        place_config_options(self, quote)
        self.addons, addon_lines = place_addons(self, quote, promotion, today, at)
        place_custom_fields(self, quote, plan.cart, self.writer.catalog.custom_fields)
        lines = invoice_lines(quote, plan.cart, promotion, [s["id"] for s in self.services],
                              [d["id"] for d in self.domains]) + addon_lines
        self.invoice = self._add(Invoice.__table__, created_at=at, **invoice_fields(
            self.order, today, self.writer.catalog.days_grace, lines))
        for line in lines:
            self._add(InvoiceItem.__table__, invoice_id=self.invoice["id"], **line)
        # The order is written, then linked to its invoice: its second version.
        self.order.update(invoice_id=self.invoice["id"], amount=self.invoice["total"], version=2)
        for service, item in zip(self.services, quote.services, strict=True):
            if created_on_placement(item):
                self._module_create(service, service["server_id"], at)
        o = self.order
        details = placement_details(o["order_number"], o["amount"], o["source"], o["invoice_id"],
                                    o["promo_code"], services=len(self.services), domains=len(self.domains))
        details |= {"addons": len(self.addons)} if self.addons else {}
        self._event(plan.placed_by, Verb.ORDER_PLACED, "", o["status"], at, jsonable(details))
        self._run_side_effects(at)

    # --- paying (the payment action of the money-and-screening issue; DESIGN.md §4) ---------------

    def _pay(self, step: Pay) -> None:
        invoice = self.invoice
        self.transactions.append(self._add(
            Transaction.__table__, client_id=invoice["client_id"], invoice_id=invoice["id"],
            gateway=invoice["payment_method"], date=step.at, description="Invoice Payment",
            amount_in=invoice["total"], transaction_id=step.transaction_id))
        invoice.update(status=InvoiceStatus.PAID, date_paid=step.at)
        # "Invoice paid in full": on_payment services are created, domains whose TLD has an
        # auto-registration registrar are sent to it.
        for service, item in zip(self.services, self.plan.quote.services, strict=True):
            if item.product.auto_setup == AutoSetup.ON_PAYMENT and service["status"] == ServiceStatus.PENDING:
                self._module_create(service, service["server_id"], step.at)
        for domain, item in zip(self.domains, self.plan.quote.domains, strict=True):
            if item.tld.auto_registrar and domain["status"] == DomainStatus.PENDING:
                domain["registrar"] = item.tld.auto_registrar
                self._send_to_registrar(domain, step.at)

    # --- Accept Order (actions.accept.accept_order with the default options) -----------------------

    def _accept(self, step: Accept) -> None:
        self._allowed(Action.ACCEPT)
        changes = {"services": [], "domains": []}
        for service, item in zip(self.services, self.plan.quote.services, strict=True):
            if service["status"] != ServiceStatus.PENDING:
                continue
            # Accept's default: a create runs unless the product is set up never (services of
            # on_order / on_payment products that are still Pending never had one).
            create = item.product.auto_setup != AutoSetup.NEVER
            change = {"id": service["id"], "from": service["status"], "run_module_create": create,
                      "send_welcome_email": True}
            if create:
                effect = self._module_create(service, service["server_id"], step.at)
                change.update(to=service["status"], side_effect_id=effect["id"])
            else:
                service["status"] = ServiceStatus.ACTIVE
                change.update(email_side_effect_id=None, to=service["status"])  # email history left out
            changes["services"].append(change)
        for domain in self.domains:
            if domain["status"] != DomainStatus.PENDING:
                continue
            registrar = domain["registrar"] or step.registrar
            change = {"id": domain["id"], "from": domain["status"], "registrar": registrar,
                      "send_to_registrar": True}
            domain["registrar"] = registrar
            change.update(side_effect_id=self._send_to_registrar(domain, step.at)["id"], to=domain["status"])
            changes["domains"].append(change)
        if self.addons:
            changes["addons"] = accept_addons(self.addons)
        accept = TRANSITIONS[Action.ACCEPT]
        self._set_status(accept.order_to, accept.verb, step.at, changes)

    # --- Cancel, Cancel & Refund, Set as Fraud (actions.transitions.apply_transition) --------------

    def _transition(self, action: Action, at: datetime, step) -> None:
        self._allowed(action)
        transition = TRANSITIONS[action]
        payments = refundable_payments(self._invoice_view()) if transition.refund else []
        # Nothing is queued any more when an admin closes a demo order: no side effect to cancel.
        changes = {"services": [], "domains": [], "invoice": None, "terminate": [],
                   "cancelled_side_effects": []}
        rule = transition.services
        for service in self.services:
            if service["status"] in rule.terminate:
                effect = self._record(SideEffectKind.MODULE_TERMINATE, "service", service["id"],
                                      {"then_status": rule.to}, at, self._terminated(service, rule.to),
                                      self._server_message(SideEffectKind.MODULE_TERMINATE, service))
                changes["terminate"].append(effect["id"])
            elif service["status"] not in rule.keep and service["status"] != rule.to:
                changes["services"].append({"id": service["id"], "from": service["status"], "to": rule.to})
                service["status"] = rule.to
        if self.addons:
            changes["addons"], changes["addon_terminate"] = transition_addons(self.addons, rule), []
        rule = transition.domains
        for domain in self.domains:
            if domain["status"] not in rule.keep and domain["status"] != rule.to:
                changes["domains"].append({"id": domain["id"], "from": domain["status"], "to": rule.to})
                domain["status"] = rule.to
        invoice = self.invoice
        if invoice["status"] in transition.invoice:
            to = transition.invoice[invoice["status"]]
            changes["invoice"] = {"id": invoice["id"], "from": invoice["status"], "to": to}
            invoice.update(status=to, date_cancelled=at if to == InvoiceStatus.CANCELLED else None)
        self._set_status(transition.order_to, transition.verb, at, changes)
        if payments:
            refunds = []
            for payment, amount in payments:
                effect = self._record(
                    SideEffectKind.REFUND, "invoice", invoice["id"],
                    {"payment_id": payment.id, "amount": str(amount), "gateway": payment.gateway,
                     "gateway_transaction_id": payment.transaction_id},
                    at, self._refunded(payment, amount, step.refund_id, at + JOB_TIME),
                    f"Refunded through Stripe ({step.refund_id})")
                refunds.append({"side_effect_id": effect["id"], "payment_id": payment.id, "amount": amount})
            self._event(DEMO_ADMIN, Verb.ORDER_REFUND_REQUESTED, "", "", at, jsonable({"refunds": refunds}))

    # --- Change status (actions.status.change_order_status) ----------------------------------------

    def _change_status(self, step: ChangeStatus) -> None:
        self._allowed(Action.CHANGE_STATUS, step.status)
        self._set_status(step.status, Verb.ORDER_STATUS_CHANGED, step.at, {})

    # --- shared -------------------------------------------------------------------------------------

    def _allowed(self, action: Action, new_status: str | None = None) -> None:
        status = self.order["status"]
        row = TRANSITIONS[action]
        found = row.allowed_from.refusal(status, status in PENDING_LIKE)
        if found is not None:
            raise ValueError(f"Demo order {self.plan.k}: {found.message}")
        if row.chooses_status and new_status == status:
            raise ValueError(f"Demo order {self.plan.k}: the order is already {status}")

    def _set_status(self, status: str, verb: str, at: datetime, details: dict) -> None:
        before = self.order["status"]
        self.order.update(status=status, version=self.order["version"] + 1)
        self._event(DEMO_ADMIN, verb, before, status, at, details)

    def _event(self, actor: Actor, verb: str, from_status: str, to_status: str, at: datetime,
               details: dict) -> None:
        """actions.events._add. `details` must be JSON already (actions.events.jsonable where
        it holds amounts): the other events hold only ids, names and flags."""
        self._add(OrderEvent.__table__, order_id=self.order["id"], actor_type=actor.type, actor_id=actor.id,
                  actor_name=actor.name, verb=verb, from_status=from_status, to_status=to_status,
                  details=details, created_at=at)

    def _record(self, kind: str, target_type: str, target_id: int, payload: dict, at: datetime, outcome,
                message: str) -> dict:
        """A side effect (actions.side_effects.record_side_effect), written as it ends: succeeded."""
        row = self._add(SideEffect.__table__, order_id=self.order["id"], kind=kind, target_type=target_type,
                        target_id=target_id, payload=payload, status=SideEffectStatus.SUCCEEDED, attempts=1,
                        created_at=at, started_at=at + JOB_TIME, finished_at=at + JOB_TIME)
        row["idempotency_key"] = f"{kind}-demo-{row['id']}"
        self.queued.append(_Effect(row, outcome, message))
        return row

    def _run_side_effects(self, at: datetime) -> None:
        """The jobs of what the last step recorded succeed, in order (actions.side_effects
        .complete_side_effect), each with its timeline event."""
        while self.queued:
            effect = self.queued.pop(0)
            item = effect.outcome() or {}
            self._event(SYSTEM, Verb.SIDE_EFFECT_SUCCEEDED, item.get("from", ""), item.get("to", ""),
                        at + JOB_TIME, {"side_effect_id": effect.row["id"], "kind": effect.row["kind"],
                                        "target_type": effect.row["target_type"],
                                        "target_id": effect.row["target_id"], "attempts": 1,
                                        "message": effect.message, "item": item or None})

    def _server_message(self, kind: str, service: dict) -> str:
        return self.writer.message(kind, self.writer.catalog.product(service["product_id"]).module)

    def _module_create(self, service: dict, server_id: int | None, at: datetime) -> dict:
        """actions.side_effects.record_module_create: username and password chosen once, here."""
        product = self.writer.catalog.product(service["product_id"])
        service["username"] = service["username"] or username_for(SimpleNamespace(**service))
        position = next(i for i, s in enumerate(self.services) if s is service)
        service["password"] = service["password"] or self.plan.passwords[position]
        return self._record(
            SideEffectKind.MODULE_CREATE, "service", service["id"],
            {"server_id": server_id, "username": service["username"], "send_welcome_email": True,
             "welcome_template": product.welcome_email or None},
            at, self._created(service), self._server_message(SideEffectKind.MODULE_CREATE, service))

    def _send_to_registrar(self, domain: dict, at: datetime) -> dict:
        transfer = domain["type"] == DomainOrderType.TRANSFER
        domain["status"] = DomainStatus.PENDING_TRANSFER if transfer else DomainStatus.PENDING_REGISTRATION
        kind = SideEffectKind.DOMAIN_TRANSFER if transfer else SideEffectKind.DOMAIN_REGISTER
        return self._record(kind, "domain", domain["id"], {"registrar": domain["registrar"]}, at,
                            self._registered(domain), self.writer.message(kind, domain["registrar"]))

    # Outcomes, as actions.side_effects applies them when a job succeeds.

    def _created(self, service: dict):
        def outcome():
            if service["status"] != ServiceStatus.PENDING:
                raise ValueError(f"Demo order {self.plan.k}: a create ended on a {service['status']} service")
            return _change("service", service, ServiceStatus.ACTIVE)
        return outcome

    @staticmethod
    def _terminated(service: dict, then_status: str):
        return lambda: _change("service", service, then_status)

    def _registered(self, domain: dict):
        def outcome():
            if domain["status"] not in WAITING_DOMAIN:
                return None
            return _change("domain", domain, DomainStatus.ACTIVE)
        return outcome

    def _refunded(self, payment, amount, refund_id: str, at: datetime):
        def outcome():
            self.transactions.append(self._add(
                Transaction.__table__, client_id=payment.client_id, invoice_id=self.invoice["id"],
                gateway=payment.gateway, date=at,
                description=f"Refund of {payment.transaction_id or f'payment #{payment.id}'}",
                amount_out=amount, refund_of_id=payment.id, transaction_id=refund_id))
            if refundable_payments(self._invoice_view()):
                return None
            self.invoice["date_refunded"] = at
            self.invoice["version"] += 1  # as actions.refund_payment.mark_refunded_if_settled does
            return _change("invoice", self.invoice, InvoiceStatus.REFUNDED)
        return outcome

    def _invoice_view(self) -> SimpleNamespace:
        """The invoice as models.guards reads it (its transactions)."""
        return SimpleNamespace(transactions=[SimpleNamespace(**t) for t in self.transactions])


def _change(kind: str, item: dict, to: str) -> dict | None:
    """actions.side_effects._item_change on a row."""
    if item["status"] == to:
        return None
    change = {"type": kind, "id": item["id"], "from": item["status"], "to": to}
    item["status"] = to
    return change

