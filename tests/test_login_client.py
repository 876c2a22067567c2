"""The test client helper keeps two logged-in admins apart inside one test."""


def test_client_as_switches_users_within_one_test(client_as, full_admin, support_admin, session):
    session.commit()
    assert client_as(full_admin).get("/admin/clients/new/").status_code == 200
    assert client_as(support_admin).get("/admin/clients/new/").status_code == 403
    assert client_as(full_admin).get("/admin/clients/new/").status_code == 200
