/* Event check-in: scan or type the event's code, see the event and its points, claim them once.
   What was scanned is sent back as it was: a rotating event's screen code (MWE.<code>.<step>.<sig>)
   is checked by the server, which refuses the event's plain code. */
(function () {
  "use strict";
  var M = window.Machi, t = M.t;
  var scanned = null, busy = false;

  function fail(err) {
    M.$("#error-box").innerHTML = M.errorHtml(err);
    M.$("#error-back").onclick = function () { M.show("s-start"); };
    M.show("s-error");
  }

  function open(text) {
    if (!text) { return; }
    M.api("GET", "/api/events/" + encodeURIComponent(text)).then(function (ev) {
      scanned = text;
      M.$("#confirm-name").textContent = ev.name;
      M.$("#confirm-place").textContent = ev.place ? t("場所: ", "Place: ") + ev.place : "";
      M.$("#confirm-points").innerHTML = M.yen(ev.points) + '<span class="yen">' + t("ポイント", "points") + "</span>";
      M.$("#confirm-error").innerHTML = ev.open ? "" : M.errorHtml({ message: t("このイベントは今は受付していません。", "This event is not taking check-ins now.") });
      M.show("s-confirm");
    }).catch(fail);
  }

  function claim() {
    if (busy) { return; }
    busy = true;
    var btn = M.$("#claim");
    btn.disabled = true;
    M.api("POST", "/api/checkins", { code: scanned }).then(function (res) {
      var c = res.checkin;
      M.$("#done-event").textContent = c.event;
      M.$("#done-points").innerHTML = M.yen(c.points) + '<span class="yen">' + t("ポイント", "points") + "</span>";
      M.$("#done-expiry").textContent = c.expires_label ? t(c.money_type_name + "（" + c.expires_label + "まで）", c.money_type_name + " (until " + c.expires_label + ")") : c.money_type_name;
      M.$("#done-live").innerHTML = M.liveHtml();
      M.startLive();
      M.show("s-done");
    }).catch(function (err) {
      M.$("#confirm-error").innerHTML = M.errorHtml(err);
    }).then(function () { busy = false; btn.disabled = false; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    M.$("#scan").addEventListener("click", function () {
      M.scan().then(open).catch(function (e) { if (e && e.code) { fail(e); } });
    });
    M.$("#code-go").addEventListener("click", function () { open(M.$("#code").value.trim()); });
    M.$("#claim").addEventListener("click", claim);
    M.$("#confirm-back").addEventListener("click", function () { M.show("s-start"); });
    M.start().then(function (me) {
      if (!me) { return; }
      if (M.notUsable(me)) { return fail(M.notUsable(me)); }
      var query = new URLSearchParams(location.search), preset = query.get("code"), live = query.get("t");
      if (preset && live) { preset = "MWE." + preset + "." + live; }  /* the venue screen's URL */
      if (preset) { open(preset); } else { M.show("s-start"); }
    }).catch(fail);
  });
})();
