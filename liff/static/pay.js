/* Resident pay page: balances, and the customer's one-time QR (60 s, refreshed before it ends). */
(function () {
  "use strict";
  var M = window.Machi, t = M.t;
  var refreshTimer = null, tickTimer = null, pollTimer = null, current = null;

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
      }).catch(function () { /* the next poll tries again */ });
    });
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
