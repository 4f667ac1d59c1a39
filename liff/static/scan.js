/* Shop-presented payment (MPM): scan the shop's code, see its name, key in the amount, confirm, pay. */
(function () {
  "use strict";
  var M = window.Machi, t = M.t;
  var shop = null, amount = 0, key = null, pad = null, busy = false, padOpts = null;

  function fail(err, screen) {
    M.$("#error-box").innerHTML = M.errorHtml(err);
    M.$("#error-back").onclick = function () { M.show(screen || "s-start"); };
    M.show("s-error");
  }

  function shopCode(text) {
    text = (text || "").trim();
    if (/^MWS\./i.test(text)) { return text.slice(4); }
    var m = /[?&]shop=([A-Za-z0-9_-]+)/.exec(text);
    if (/^https?:/i.test(text)) { return m ? m[1] : null; }
    return /^[A-Za-z0-9_-]{1,32}$/.test(text) ? text.toUpperCase() : null;
  }

  function openShop(code) {
    if (!code) {
      return fail(new M.ApiError(0, "not_shop_code", t(
        "お店のQRコードではありません。レジの横に貼ってあるお店のQRコードを読み取ってください。",
        "This is not a shop's code. Please scan the shop's QR code at the counter.")));
    }
    M.api("GET", "/api/merchants/" + encodeURIComponent(code)).then(function (s) {
      shop = s;
      key = null;
      M.$("#amount-shop").textContent = s.name;
      M.$("#amount-usable").textContent = usableText();
      pad.set("");
      M.show("s-amount");
    }).catch(function (e) { fail(e); });
  }

  function usable() {
    if (!shop) { return Infinity; }
    return shop.usable == null ? M.me().total : shop.usable;
  }

  /* The 専用券 she holds that this shop does not take, by the names her balance shows (one name each). */
  function notHere() {
    return M.me().balances.filter(function (b) {
      return b.spendable && b.accepted_category && shop && b.accepted_category !== shop.category;
    }).map(function (b) { return "“" + b.name + "”"; }).join(", ");
  }

  function usableText() {
    return t("このお店で使える残高 ", "You can use here: ") + M.yen(usable()) + t("円", " yen");
  }

  function onAmount(v) {
    amount = Number(v || 0);
    var d = M.$("#amount-display");
    d.innerHTML = amount ? M.amountHtml(amount) : t("金額を入力", "Enter amount");
    d.classList.toggle("empty", !amount);
    var over = amount > usable();
    M.$("#amount-next").disabled = !amount || over;
    /* said here, before the confirmation, not after 支払う: the page already knows what is usable */
    var elsewhere = M.me().total > usable();  /* 専用券 held, and this is a large store */
    M.$("#amount-hint").textContent = over ? t(
      "このお店で使える残高は" + M.yen(usable()) + "円です。" + (elsewhere ? "専用券はこのお店では使えません。" : "") +
        "金額を減らしてください。",
      "You can use " + M.yen(usable()) + " yen here." + (elsewhere ? " " + notHere() + " cannot be used here." : "") +
        " Please enter less.") : "";
    key = null; /* a new amount is a new request */
  }

  function confirm() {
    key = key || M.newKey();
    M.$("#confirm-shop").textContent = shop.name;
    M.$("#confirm-amount").innerHTML = M.amountHtml(amount);
    M.$("#confirm-live").innerHTML = M.liveHtml("confirm");
    M.$("#confirm-balance").textContent = usableText();
    M.$("#confirm-error").innerHTML = "";
    M.startLive();
    M.show("s-confirm");
  }

  function pay() {
    if (busy) { return; }
    busy = true;
    var btn = M.$("#pay");
    btn.disabled = true;
    btn.textContent = t("お支払い中…", "Paying…");
    M.api("POST", "/api/payments", { merchant_code: shop.code, amount: amount, idempotency_key: key })
      .then(done)
      .catch(function (err) {
        M.$("#confirm-error").innerHTML = M.errorHtml(err);
        if (err.status >= 400 && err.status < 500) { key = M.newKey(); } /* refused: nothing moved */
      })
      .then(function () {
        busy = false;
        btn.disabled = false;
        btn.textContent = t("支払う", "Pay");
      });
  }

  function done(res) {
    var p = res.payment;
    M.$("#done-shop").textContent = p.merchant.name;
    M.$("#done-amount").innerHTML = M.amountHtml(p.amount);
    M.$("#done-live").innerHTML = M.liveHtml();
    M.$("#done-at").textContent = t("お支払い時刻 ", "Paid at ") + p.at_label;
    M.$("#done-breakdown").innerHTML = M.breakdownHtml(p.breakdown);
    M.startLive();
    M.show("s-done");
  }

  document.addEventListener("DOMContentLoaded", function () {
    pad = M.keypad(M.$("#amount-keypad"), padOpts = {
      max: 6, doubleZero: true, numeric: true, onChange: onAmount, limit: 100000,
      onTooLong: function () {
        var max = (M.me() && M.me().max_payment) || 100000;
        M.$("#amount-hint").textContent = t("1回のお支払いは" + M.yen(max) + "円までです。", "One payment is at most " + M.yen(max) + " yen.");
      }
    });
    M.$("#scan").addEventListener("click", function () {
      M.scan().then(function (text) { openShop(shopCode(text)); }).catch(function (e) {
        if (e && e.code) { fail(e); }
      });
    });
    M.$("#manual").addEventListener("click", function () {
      M.$("#manual-box").hidden = false;
      M.$("#manual").hidden = true;
      M.$("#shop-code").focus();
    });
    M.$("#shop-code-go").addEventListener("click", function () { openShop(shopCode(M.$("#shop-code").value)); });
    M.$("#amount-next").addEventListener("click", confirm);
    M.$("#amount-back").addEventListener("click", function () { M.show("s-start"); });
    M.$("#pay").addEventListener("click", pay);
    M.$("#confirm-back").addEventListener("click", function () { M.show("s-amount"); });
    M.$("#confirm-cancel").addEventListener("click", function () { location.href = "/liff/pay"; });
    M.start().then(function (me) {
      if (!me) { return; }
      padOpts.limit = me.max_payment;
      if (M.notUsable(me)) { return fail(M.notUsable(me)); }
      var preset = new URLSearchParams(location.search).get("shop");
      if (preset) { openShop(shopCode(preset)); } else { M.show("s-start"); }
    }).catch(function (e) { fail(e); });
  });
})();
