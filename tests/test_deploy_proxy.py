"""Behind a reverse proxy (docs/deploy.md): the client's address comes from X-Forwarded-For only when
TRUSTED_PROXY_COUNT says a proxy is there, and then only the hops it names."""

import pytest

from extensions import db
from tests.api_support import API, make_credential
from tests.conftest import make_test_app


def _statuses(app, credential, secret, forwarded_for=None):
    return app.test_client().post(
        API,
        data={"action": "GetOrderStatuses", "identifier": credential.identifier, "secret": secret},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},  # the proxy, on this host
        headers={"X-Forwarded-For": forwarded_for} if forwarded_for else {},
    )


@pytest.mark.parametrize("hops", [0, 1])
def test_forwarded_for_is_believed_only_from_trusted_proxies(app_ctx, database_url, hops):
    credential, secret = make_credential(allowlist="127.0.0.1")
    db.session.commit()
    behind = make_test_app(database_url, TRUSTED_PROXY_COUNT=hops)
    forwarded = _statuses(behind, credential, secret, "203.0.113.9")
    assert _statuses(behind, credential, secret).status_code == 200
    if hops:  # the proxy said who the client is: an address outside the allow-list
        assert (forwarded.status_code, forwarded.get_json()["message"]) == (403, "Invalid IP 203.0.113.9")
    else:  # no proxy trusted: the header is the client's own claim, and ignored
        assert forwarded.status_code == 200


def test_a_client_cannot_prepend_its_own_address_through_one_proxy(app_ctx, database_url):
    credential, secret = make_credential(allowlist="198.51.100.7")
    db.session.commit()
    behind = make_test_app(database_url, TRUSTED_PROXY_COUNT=1)
    # The client wrote "198.51.100.7" itself; the one trusted proxy appended the real address.
    spoofed = _statuses(behind, credential, secret, "198.51.100.7, 203.0.113.9")
    assert spoofed.get_json()["message"] == "Invalid IP 203.0.113.9"
