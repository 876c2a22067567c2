"""AddOrder's parameters read into a Cart's lines (api/add_order.py places it).

Positions line up as in WHMCS: pid[k], qty[k], billingcycle[k], priceoverride[k] and domain[k]
describe product k (domain[k] is its hostname); where domaintype[k] is given, domain[k] is also a
domain registration or transfer, with regperiod[k], eppcode[k], dnsmanagement[k],
emailforwarding[k], idprotection[k], domainpriceoverride[k] and domainrenewoverride[k].
"""

import ipaddress

from actions.cart import CartDomain, CartProduct
from api.add_order_options import config_options_of
from api.custom_fields import product_answers
from api.errors import ApiError
from api.formats import CYCLE_BY_SYSTEM_NAME
from api.params import Params, item_int, item_money, item_text, parse_flag
from api.phpserial import SerializedValueError, decode_base64_serialized
from models import DomainOrderType
from models.bounds import MAX_QUANTITY, MAX_REGISTRATION_YEARS, MIN_REGISTRATION_YEARS, is_id

CATALOG = "the catalog has no TLD-specific domain fields yet"



def _aligned(params: Params, name: str, keys: list[int], of: str) -> dict[int, str]:
    """A per-line array whose keys must all belong to lines of `of` (pid or domaintype)."""
    array = params.positional(name)
    stray = [k for k in array if k not in keys]
    if stray:
        raise ApiError(f"{name}[{stray[0]}] has no matching {of}[{stray[0]}].")
    return array


def products_of(params: Params) -> tuple[list[CartProduct], list[int]]:
    pids = params.positional("pid")
    keys = list(pids)
    qty = _aligned(params, "qty", keys, "pid")
    cycles = _aligned(params, "billingcycle", keys, "pid")
    overrides = _aligned(params, "priceoverride", keys, "pid")
    hostnames = params.positional("domain")
    addons = _aligned(params, "addons", keys, "pid")
    quantities = _aligned(params, "addonsqty", keys, "pid")
    config_options = _aligned(params, "configoptions", keys, "pid")
    answers = product_answers(params, keys)
    lines = []
    for k in keys:
        cycle_name = cycles.get(k, "").strip().lower()
        cycle = CYCLE_BY_SYSTEM_NAME.get(cycle_name)
        if cycle_name and cycle is None:
            reason = (
                "the free billing cycle is not supported"
                if cycle_name == "free"
                else "valid options include " + ",".join(CYCLE_BY_SYSTEM_NAME)
            )
            raise ApiError(f"billingcycle[{k}]: invalid billing cycle {cycle_name[:20]!r}; {reason}.")
        override = overrides.get(k, "")
        lines.append(
            CartProduct(
                product_id=item_int(pids[k], f"pid[{k}]", 1, 2**31 - 1),
                billing_cycle=cycle,
                quantity=item_int(qty[k], f"qty[{k}]", 1, MAX_QUANTITY) if qty.get(k, "").strip() else 1,
                price_override=item_money(override, f"priceoverride[{k}]") if override.strip() else None,
                domain=item_text(hostnames.get(k, ""), f"domain[{k}]", max_length=253),
                addon_ids=_addon_ids(addons.get(k, ""), quantities.get(k, ""), k),
                config_options=config_options_of(config_options.get(k, ""), k),
                custom_fields=answers.get(k, {}),
            )
        )
    return lines, keys


def _addon_ids(listed: str, quantities: str, k: int) -> list[int]:
    """addons[k]: comma-separated addon ids; addonsqty[k]: one quantity each, only 1 (an ordered
    addon is one item; order an addon twice on one service as two services' addons)."""
    ids = [item.strip() for item in listed.split(",") if item.strip()]
    if any(not is_id(item) for item in ids):
        raise ApiError(f"addons[{k}] must be a comma-separated list of addon ids.")
    counts = [item.strip() for item in quantities.split(",") if item.strip()]
    if any(count != "1" for count in counts):
        raise ApiError(f"addonsqty[{k}]: each addon is ordered once per service; give 1 or leave it out.")
    if counts and len(counts) != len(ids):
        raise ApiError(f"addonsqty[{k}] must give one quantity per addon in addons[{k}].")
    return [int(item) for item in ids]


class _DomainLine:
    """Domain line k's entries in the per-domain arrays."""

    def __init__(self, per_domain: dict[str, dict[int, str]], k: int):
        self.per_domain, self.k = per_domain, k

    def value(self, name: str) -> str:
        return self.per_domain[name].get(self.k, "").strip()

    def flag(self, name: str) -> bool:
        return parse_flag(self.value(name), f"{name}[{self.k}]")

    def amount(self, name: str):
        return item_money(self.value(name), f"{name}[{self.k}]") if self.value(name) else None

    def years(self) -> int:
        if not self.value("regperiod"):
            return 1
        return item_int(
            self.value("regperiod"), f"regperiod[{self.k}]", MIN_REGISTRATION_YEARS, MAX_REGISTRATION_YEARS
        )


def domains_of(params: Params, product_keys: list[int]) -> tuple[list[CartDomain], list[int]]:
    names = params.positional("domain")
    if isinstance(params.values.get("domaintype"), str) and len(names) > 1:
        raise ApiError("Expecting parameter 'domaintype' to be an array")
    types = params.positional("domaintype")
    stray = [k for k in types if k not in names]
    if stray:
        raise ApiError(f"domaintype[{stray[0]}] has no matching domain[{stray[0]}].")
    for k in names:
        if k not in types and k not in product_keys:
            raise ApiError(
                f"domain[{k}] belongs to no pid[{k}] and has no domaintype[{k}] (register or transfer)."
            )
    keys = [k for k in names if types.get(k, "").strip()]
    per_domain = {
        name: _aligned(params, name, keys, "domaintype")
        for name in (
            "regperiod",
            "eppcode",
            "dnsmanagement",
            "emailforwarding",
            "idprotection",
            "domainpriceoverride",
            "domainrenewoverride",
        )
    }
    lines = []
    for k in keys:
        kind = {"register": DomainOrderType.REGISTER, "transfer": DomainOrderType.TRANSFER}.get(
            types[k].strip().lower()
        )
        if kind is None:
            raise ApiError(f"domaintype[{k}] must be register or transfer.")

        line = _DomainLine(per_domain, k)
        lines.append(
            CartDomain(
                type=kind,
                name=item_text(names[k], f"domain[{k}]", max_length=253),
                period_years=line.years(),
                epp_code=item_text(per_domain["eppcode"].get(k, ""), f"eppcode[{k}]", max_length=255),
                dns_management=line.flag("dnsmanagement"),
                email_forwarding=line.flag("emailforwarding"),
                id_protection=line.flag("idprotection"),
                price_override=line.amount("domainpriceoverride"),
                renewal_override=line.amount("domainrenewoverride"),
            )
        )
    return lines, keys


def refuse_catalog_extras(params: Params) -> None:
    """Decode and check what the catalog cannot hold yet; refuse an order that carries any of it."""
    for name, what in (
        ("domainfields", "domain fields"),
    ):
        for k, blob in params.positional(name).items():
            if not blob.strip():
                continue
            try:
                value = decode_base64_serialized(blob)
            except SerializedValueError as exc:
                raise ApiError(f"{name}[{k}] is not a base64-encoded PHP serialized array ({exc}).") from None
            if not isinstance(value, dict):
                raise ApiError(f"{name}[{k}] must be a serialized array, not a single value.")
            if value:
                raise ApiError(
                    f"{name}[{k}]: {what} are not supported yet ({CATALOG}); place the order without them."
                )


def client_ip_of(params: Params) -> str:
    text = params.text("clientip", max_length=45)
    if text:
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise ApiError("clientip must be an IP address.") from None
    return text
