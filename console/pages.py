"""The console's pages: the dashboard, resident search, a resident's page (audited when opened) and the
counter's 本人確認済みにする. Thin: the figures, the search and the verification live in town/ and flows/."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from console import session as sess
from console.blueprint import bp, error_page
from flows.verification import CounterVerifier
from ledger.clock import fmt_jst, utcnow
from ledger.errors import InvalidInput
from ledger.models import Resident
from ledger.queries import balances
from town import dashboard as dash
from town import resident_search, staff
from town.staff import ADMIN, COUNTER, STAFF

PEOPLE = (ADMIN, STAFF, COUNTER)  # roles that may see residents' personal pages
STATUS_JA = {"active": "利用中", "suspended": "一時停止", "moved_out": "転出", "deceased": "死亡", "withdrawn": "退会"}
VERIFY_JA = {"unverified": "未確認", "counter": "窓口で確認済み", "mynumber": "マイナンバーカードで確認済み"}


@bp.app_template_filter("yen")
def _yen(amount: int) -> str:
    return f"{amount:,}円"


@bp.app_context_processor
def _labels() -> dict:
    return {"STATUS_JA": STATUS_JA, "VERIFY_JA": VERIFY_JA, "fmt_jst": fmt_jst, "PEOPLE": PEOPLE}


def _audit(action: str, result: str = "", **params: object) -> None:
    staff.record(sess.machi().db, sess.actor(g.staff), action, dict(params), result)


@bp.get("/")
@sess.requires(*sess.ALL_ROLES)
def dashboard():
    with sess.machi().db.session() as s:
        figures = dash.compute(s.connection(), utcnow())
    return render_template("console/dashboard.html", f=figures, reg_targets=dash.REGISTRATION_TARGETS,
                           vol_targets=dash.VOLUME_TARGETS)


@bp.route("/residents", methods=["GET", "POST"])
@sess.requires(*PEOPLE)
def search():
    """A POST form: names and birth dates never travel in a URL (nor in the server's access log)."""
    form = {k: request.form.get(k, "").strip() for k in ("name", "kana", "birth")}
    if request.method == "GET":
        return render_template("console/search.html", form=form, errors={}, hits=None)
    try:
        with sess.machi().db.session() as s:
            hits = resident_search.search(s.connection(), **form)
    except InvalidInput as exc:
        return render_template("console/search.html", form=form, hits=None,
                               errors={exc.details.get("field", "name"): exc.message}), 400
    _audit("console.resident.search", f"{len(hits)} found", fields=[k for k, v in form.items() if v])
    return render_template("console/search.html", form=form, errors={}, hits=hits)


@bp.get("/residents/<int:resident_id>")
@sess.requires(*PEOPLE)
def resident(resident_id: int):
    with sess.machi().db.session() as s:
        person = s.get(Resident, resident_id)
        if person is None:
            return error_page(404, "この番号の住民はいません。")
        wallet = balances(s.connection(), person.account_id, now=utcnow())
    _audit("console.resident.view", "opened", resident_id=resident_id)
    return render_template("console/resident.html", r=person, wallet=wallet, notice=request.args.get("done"))


@bp.post("/residents/<int:resident_id>/verify")
@sess.requires(*PEOPLE)
def verify(resident_id: int):
    """本人確認済みにする: staff saw an ID at the counter."""
    with sess.machi().db.write() as s:
        person = s.get(Resident, resident_id)
        if person is None:
            return error_page(404, "この番号の住民はいません。")
        if person.verification != "unverified":
            return redirect(url_for("console.resident", resident_id=resident_id))
        CounterVerifier().complete(s, resident_id)
    _audit("console.resident.verify", "verified", resident_id=resident_id, method="counter")
    return redirect(url_for("console.resident", resident_id=resident_id, done="verified"))
