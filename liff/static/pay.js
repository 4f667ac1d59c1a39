/* Resident pay page: balances, and the customer's one-time QR (60 s, refreshed before it ends). */
(function () {
  "use strict";
  var M = window.Machi, t = M.t;
  var refreshTimer = null, tickTimer = null, pollTimer = null, current = null;
  var asked = null, askTimer = null, askPoll = null, busy = false;

  function render(me) {
    M.$("#hello").textContent = me.name ? t(me.name + " さん", "Hello, " + me.name) : t("こんにちは", "Hello");
    M.$("#total").innerHTML = M.amountHtml(me.total);
    M.$("#balances").innerHTML = me.balances.length ? me.balances.map(function (b) {
      var unit = b.spendable ? t("円", " yen") : t("ポイント", " pt");
      var until = b.next_expiry_label ? t(b.next_expiry_label + "まで", "until " + b.next_expiry_label) : "";
      if (until && b.expiring_amount && b.expiring_amount !== b.amount) {
        until = t("うち " + M.yen(b.expiring_amount) + unit + " は " + b.next_expiry_label + "まで",
          M.yen(b.expiring_amount) + unit + " of it until " + b.next_expiry_label);
      }
      return '<li><div class="line"><span class="name">' + M.esc(b.name) + '</span><span class="value">' +
        M.yen(b.amount) + '<span class="small">' + unit + "</span></span></div>" +
        (until ? '<div class="sub">' + M.esc(until) + "</div>" : "") +
        (b.note ? '<div class="sub">' + M.esc(b.note) + "</div>" : "") + "</li>";
    }).join("") : '<li class="muted">' + t("まだ残高はありません。", "Nothing here yet.") + "</li>";
    M.$("#to-till").classList.toggle("hidden", !me.merchants.length);
    M.show("s-home");
  }

  function stopQr() {
    [refreshTimer, tickTimer, pollTimer].forEach(function (x) { if (x) { clearInterval(x); clearTimeout(x); } });
    refreshTimer = tickTimer = pollTimer = null;
    current = null;
  }

  function newQr() {
    return M.api("POST", "/api/cpm-tokens").then(function (tok) {
      current = tok;
      var box = M.$("#qr");
      box.innerHTML = tok.qr_svg;
      box.setAttribute("data-payload", tok.token);
      var endsAt = Date.now() + tok.expires_in * 1000;
      if (tickTimer) { clearInterval(tickTimer); }
      var tick = function () {
        var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
        M.$("#seconds").textContent = left;
        M.$("#meter").style.width = (100 * left / tok.expires_in) + "%";
      };
      tick();
      tickTimer = setInterval(tick, 1000);
      if (refreshTimer) { clearTimeout(refreshTimer); }
      refreshTimer = setTimeout(function () { newQr().catch(fail); }, tok.refresh_in * 1000);
      if (!pollTimer) { pollTimer = setInterval(poll, 2000); }
    });
  }

  var seen = [];
  function poll() {
    if (!current) { return; }
    if (seen.indexOf(current.token_id) < 0) { seen.push(current.token_id); }
    var ids = seen.slice(-2);
    ids.forEach(function (id) {
      M.api("GET", "/api/cpm-tokens/" + encodeURIComponent(id)).then(function (st) {
        if (st.used && st.payment && current) { stopQr(); paid(st.payment); }
        else if (st.request && st.request.state === "pending" && current) { stopQr(); ask(st.request); }
      }).catch(function () { /* the next poll tries again */ });
    });
  }

  /* The shop keyed in an amount on her code: she sees shop and amount, and the money moves only on 支払う. */
  function ask(req) {
    asked = req;
    var endsAt = Date.now() + req.seconds_left * 1000;
    M.$("#approve-shop").textContent = req.merchant.name;
    M.$("#approve-amount").innerHTML = M.amountHtml(req.amount);
    M.$("#approve-live").innerHTML = M.liveHtml("confirm");
    M.$("#approve-error").innerHTML = "";
    M.$("#approve-pay").disabled = false;
    var tick = function () {
      var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
      M.$("#approve-seconds").textContent = left;
      if (!left) { closed({ state: "expired" }); }
    };
    stopAsk();
    tick();
    askTimer = setInterval(tick, 1000);
    askPoll = setInterval(function () {  /* the shop may call it off meanwhile */
      M.api("GET", "/api/payment-requests/" + encodeURIComponent(req.id)).then(function (r) {
        if (asked && r.request.state !== "pending" && !busy) {
          if (r.request.state === "paid") { stopAsk(); paid(r.request.payment); } else { closed(r.request); }
        }
      }).catch(function () { /* the next poll tries again */ });
    }, 2000);
    M.startLive();
    M.show("s-approve");
  }

  function stopAsk() {
    [askTimer, askPoll].forEach(function (x) { if (x) { clearInterval(x); } });
    askTimer = askPoll = null;
  }

  function closed(req) {
    stopAsk();
    asked = null;
    var said = req.state === "expired"
      ? t("確認の時間が過ぎました。お支払いはしていません。お店の方にもう一度読み取ってもらってください。",
        "The time to confirm has passed. Nothing was paid. Ask the shop to scan your code again.")
      : req.reason || t("お店の方がお支払いを取り消しました。お支払いはしていません。",
        "The shop called this payment off. Nothing was paid.");
    fail(new M.ApiError(0, "request_" + req.state, said));
  }

  function approve() {
    if (busy || !asked) { return; }
    busy = true;
    var btn = M.$("#approve-pay");
    btn.disabled = true;
    btn.textContent = t("お支払い中…", "Paying…");
    M.api("POST", "/api/payment-requests/" + encodeURIComponent(asked.id) + "/approve", {}).then(function (res) {
      stopAsk();
      asked = null;
      paid(res.payment);
    }).catch(function (err) {
      M.$("#approve-error").innerHTML = M.errorHtml(err);
      if (err.status >= 400 && err.status < 500) { stopAsk(); asked = null; }  /* refused: nothing moved */
      else { btn.disabled = false; }
    }).then(function () {
      busy = false;
      btn.textContent = t("支払う", "Pay");
    });
  }

  function decline() {
    if (busy) { return; }
    if (!asked) { return reload(); }
    var id = asked.id;
    stopAsk();
    asked = null;
    M.api("POST", "/api/payment-requests/" + encodeURIComponent(id) + "/decline", {}).then(reload, reload);
  }

  function paid(p) {
    M.$("#paid-shop").textContent = p.merchant.name;
    M.$("#paid-amount").innerHTML = M.amountHtml(p.amount);
    M.$("#paid-live").innerHTML = M.liveHtml();
    M.$("#paid-at").textContent = t("お支払い時刻 ", "Paid at ") + p.at_label;
    M.$("#paid-breakdown").innerHTML = M.breakdownHtml(p.breakdown);
    M.startLive();
    M.show("s-paid");
  }

  function fail(err) {
    stopQr();
    stopAsk();
    M.$("#error-box").innerHTML = M.errorHtml(err);
    M.show("s-error");
  }

  function reload() {
    M.api("GET", "/api/me").then(function (me) {
      if (!me.registered) { return unregistered(me); }
      if (M.notUsable(me)) { return fail(M.notUsable(me)); }
      render(me);
    }).catch(fail);
  }

  function unregistered(me) {
    M.$("#unreg-till").classList.toggle("hidden", !me.merchants.length);
    M.show("s-unregistered");
  }

  document.addEventListener("DOMContentLoaded", function () {
    M.$("#show-qr").addEventListener("click", function () {
      seen = [];
      newQr().then(function () { M.show("s-qr"); }).catch(fail);
    });
    M.$("#qr-close").addEventListener("click", function () { stopQr(); reload(); });
    M.$("#paid-home").addEventListener("click", reload);
    M.$("#approve-pay").addEventListener("click", approve);
    M.$("#approve-cancel").addEventListener("click", decline);
    M.$("#error-back").addEventListener("click", reload);
    M.$("#close").addEventListener("click", M.close);
    M.$("#unreg-close").addEventListener("click", M.close);
    M.start().then(function (me) {
      if (!me) { return; }
      if (!me.registered) { return unregistered(me); }
      if (M.notUsable(me)) { return fail(M.notUsable(me)); }
      render(me);
    }).catch(fail);
  });
})();
