"""Roles are checked on the server for every page and action: each role's allowed and refused pages."""
from __future__ import annotations

import pytest

from ledger.models import Resident
from town.staff import ADMIN, CHAMBER, COUNTER, STAFF, VIEWER

ALLOWED = {
    ADMIN: {"dashboard", "search", "resident", "verify"},
    STAFF: {"dashboard", "search", "resident", "verify"},
    COUNTER: {"dashboard", "search", "resident", "verify"},
    CHAMBER: {"dashboard"},
    VIEWER: {"dashboard"},
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_role_opens_its_pages_and_is_refused_the_others(role, browser, make_staff, residents, core):
    who = make_staff(role)
    assert browser.sign_in(who).status_code == 302
    tome = residents["tome"]
    answers = {
        "dashboard": browser.get("/console/"),
        "search": browser.get("/console/residents"),
        "resident": browser.get(f"/console/residents/{tome}"),
        "verify": browser.post(f"/console/residents/{tome}/verify", page="/console/"),
    }
    for page, r in answers.items():
        if page in ALLOWED[role]:
            assert r.status_code in (200, 302), (role, page, r.status_code)
        else:
            assert r.status_code == 403, (role, page)
            body = r.get_data(as_text=True)
            assert "権限がありません" in body and "<html lang=\"ja\">" in body
    with core.db.session() as s:
        verified = s.get(Resident, tome).verification
    assert verified == ("counter" if "verify" in ALLOWED[role] else "unverified")


def test_pages_need_a_signed_in_person(browser, residents):
    for url in ("/console/", "/console/residents", f"/console/residents/{residents['tome']}"):
        r = browser.get(url)
        assert r.status_code == 302 and r.headers["Location"].startswith("/console/sign-in")
    r = browser.post(f"/console/residents/{residents['tome']}/verify")
    assert r.status_code == 302 and r.headers["Location"].startswith("/console/sign-in")
