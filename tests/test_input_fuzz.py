"""Property-based fuzz over every endpoint of app.url_map (DESIGN.md §7): as a Full Administrator
(and anonymously for the login), every query and form parameter - found from the URL rules, the
forms and links the pages render and Flask-Admin's conventions - gets oversized and negative
integers, non-numbers, NUL bytes, CR/LF, 10,000-character strings and unknown ids. No answer is a
500 (nor a handled error with a reference), and a refused request leaves every table as it was.

Fixed example budget, derandomized: the same requests on every run."""

import logging

import pytest
from flask import message_flashed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from werkzeug.datastructures import MultiDict

from extensions import db
from models.bounds import MAX_BIGINT, MAX_ID
from tests.conftest import sign_in
from tests.crawl_support import discover, restore, seed_world, snapshot

NASTY = [
    str(MAX_ID + 1), str(MAX_BIGINT + 1), "9" * 40, "-1", "-2147483649", "0", "abc", "1e400", "NaN",
    "12.345", "\x00", "a\x00b", "\r\nSet-Cookie: x=1", "/\r/x", "x" * 10_000, "\u00b2", "2147483647", "",
]
EXAMPLES = 200  # hypothesis examples per database, after one sweep of every parameter
REFUSED_STATUSES = range(400, 500)


class Fuzzer:
    def __init__(self, app, caplog):
        self.app, self.caplog = app, caplog
        seeded = seed_world(db.session)
        self.admin = seeded["admin"]
        self.client = app.test_client()
        self.anonymous = app.test_client()
        sign_in(self.client, self.admin)
        self.cases = discover(app, self.client, seeded)
        self.seed_rows = snapshot()
        self.flashes = []
        self.sent = self.refusals = self.writes = 0
        message_flashed.connect(self._flashed, app)
        event.listen(db.engine, "before_cursor_execute", self._statement)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.writes += 1

    def close(self):
        event.remove(db.engine, "before_cursor_execute", self._statement)
        message_flashed.disconnect(self._flashed, self.app)

    def _flashed(self, sender, message, category):
        self.flashes.append(category)

    def send(self, case, params):
        self.flashes.clear()
        self.caplog.clear()
        client = self.anonymous if case.anonymous else self.client
        if case.method == "GET":
            response = client.get(case.path, query_string=MultiDict(params))
        else:
            response = client.open(case.path, method=case.method, data=MultiDict(params))
        unexpected = [r for r in self.caplog.records
                      if r.name == "admin.errors" and r.levelno >= logging.ERROR]
        assert not unexpected, (case.method, case.path, params, unexpected[0].getMessage())
        assert response.status_code < 500, (case.method, case.path, params)
        return response

    def refused(self, response) -> bool:
        html = response.get_data(as_text=True) if "html" in (response.content_type or "") else ""
        return (response.status_code in REFUSED_STATUSES or "error" in self.flashes
                or "is-invalid" in html or "has-error" in html)

    def attack(self, case, corrupt: dict[int, str]):
        params = [(name, corrupt.get(i, value)) for i, (name, value) in enumerate(case.params)]
        before = self.seed_rows  # every request starts from the seeded rows (restored after a change)
        writes = self.writes
        response = self.send(case, params)
        # Not one INSERT, UPDATE or DELETE: the tables are as they were (no need to read them all).
        after = before if self.writes == writes else snapshot()
        self.sent += 1
        if self.refused(response):
            self.refusals += 1
            assert after == before, ("a refused request changed the database", case.method, case.path, params)
        if after != before:
            restore(self.seed_rows)
            sign_in(self.client, self.admin)


@pytest.fixture
def fuzzer(app_ctx, caplog):
    caplog.set_level(logging.ERROR)
    fuzzer = Fuzzer(app_ctx, caplog)
    yield fuzzer
    fuzzer.close()


def test_every_parameter_of_every_endpoint_survives_hostile_values(fuzzer):
    cases = fuzzer.cases
    endpoints = {case.endpoint for case in cases}
    assert len(cases) > 150 and len(endpoints) > 80  # the walk really covers the app
    # One sweep: every parameter of every request once, the hostile value rotating.
    turn = 0
    for case in cases:
        for index in range(len(case.params)):
            fuzzer.attack(case, {index: NASTY[turn % len(NASTY)]})
            turn += 1

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def hostile(data):
        case = data.draw(st.sampled_from(cases))
        if not case.params:
            fuzzer.attack(case, {})
            return
        indexes = data.draw(st.sets(st.integers(0, len(case.params) - 1), min_size=1, max_size=3))
        fuzzer.attack(case, {i: data.draw(st.sampled_from(NASTY)) for i in indexes})

    hostile()
    print(f"\ninput fuzz: {len(cases)} requests over {len(endpoints)} endpoints; {fuzzer.sent} sent, "
          f"{fuzzer.refusals} refused (each with the database unchanged)")
