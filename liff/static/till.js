/*
 * Shop till: scan a resident's QR or card, key in the amount, confirm (card: the resident types the
 * PIN on this phone), receipt; today's sales and refunds. The server decides everything about money.
 */
(function () {
  "use strict";
  var M = window.Machi, t = M.t;
  var SHOP_KEY = "machi-till-shop";
  var shop = null, sale = null, amountPad = null, pinPad = null, cardPad = null, busy = false;
  var daysBack = 0, salesRows = [], refundTarget = null, amountOpts = null;
  var waitingFor = null, waitTimer = null, waitPoll = null;

  function fail(err, back) {
    M.$("#error-box").innerHTML = M.errorHtml(err);
    M.$("#error-back").onclick = back || home;
    M.show("s-error");
  }

  function q() { return shop ? "merchant_code=" + encodeURIComponent(shop.code) : ""; }

  /* ---------- shop choice and the home screen ---------- */
  function chooseShop(me) {
    var saved = localStorage.getItem(SHOP_KEY);
    var found = me.merchants.filter(function (m) { return m.code === saved; })[0];
    if (me.merchants.length === 1 || found) { shop = found || me.merchants[0]; return home(); }
    M.$("#shop-list").innerHTML = "";
    me.merchants.forEach(function (m) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = m.name;
      b.addEventListener("click", function () { shop = m; localStorage.setItem(SHOP_KEY, m.code); home(); });
      M.$("#shop-list").appendChild(b);
    });
    M.show("s-choose");
  }

  function home() {
    sale = null;
    M.$("#home-shop").textContent = shop.name;
    M.$("#change-shop").classList.toggle("hidden", M.me().merchants.length < 2);
    M.api("GET", "/api/till/summary?" + q()).then(function (s) {
      M.$("#home-total").innerHTML = M.amountHtml(s.net);
      M.$("#home-count").textContent = t(s.sales.count + "件のお支払い", s.sales.count + " payments") +
        (s.refunds.count ? t("（返金 " + s.refunds.count + "件 " + M.yen(s.refunds.total) + "円を引いた額）",
          " (less " + s.refunds.count + " refunds, " + M.yen(s.refunds.total) + " yen)") : "");
      M.show("s-home");
    }).catch(function (e) { fail(e, function () { location.reload(); }); });
  }

  /* ---------- scanning ---------- */
  function classify(text) {
    if (/^MW1\./.test(text)) { return { kind: "cpm", token: text }; }
    var digits = text.replace(/[\s-]/g, "");
    if (/^\d{12}$/.test(digits)) { return { kind: "card", number: digits }; }
    if (/^MWS\./i.test(text) || /[?&]shop=/.test(text)) {
      return { error: t("これはお店のQRコードです。お客様のお支払い画面のQRコードか、カードを読み取ってください。",
        "This is a shop's code. Please scan the customer's payment code or card.") };
    }
    return { error: t("まちウォレットのコードではありません。お客様のお支払い画面のQRコードか、カードを読み取ってください。",
      "This is not a Machi Wallet code. Please scan the customer's payment code or card.") };
  }

  function scanned(text, keepAmount) {
    var c = classify(text);
    if (c.error) { return fail(new M.ApiError(0, "bad_code", c.error)); }
    if (c.kind === "cpm") {
      var amount = keepAmount && sale ? sale.amount : 0;
      sale = { kind: "cpm", token: c.token, amount: amount, key: null };
      if (amount) { return confirm(); }
      return askAmount(t("お客様のQRコード ✓", "Customer's QR code ✓"));
    }
    return startCard(c.number);
  }

  function startCard(number) {
    var body = { card_number: number };  /* in the body: a card number never goes in a URL */
    if (shop) { body.merchant_code = shop.code; }
    M.api("POST", "/api/cards/lookup", body).then(function (card) {
      sale = { kind: "card", number: card.card_number, display: card.display, amount: 0, key: null };
      askAmount(t("カード ", "Card ") + card.display);
    }).catch(function (e) { fail(e); });
  }

  function scan(keepAmount) {
    M.scan().then(function (text) { scanned(text, keepAmount); }).catch(function (e) { if (e && e.code) { fail(e); } });
  }

  /* ---------- amount, confirmation, PIN ---------- */
  function askAmount(who) {
    M.$("#amount-who").textContent = who;
    sale.who = who;
    amountPad.set(sale.amount ? String(sale.amount) : "");
    M.show("s-amount");
  }

  function onAmount(v) {
    var n = Number(v || 0);
    if (sale) { sale.amount = n; sale.key = null; }
    var d = M.$("#amount-display");
    d.innerHTML = n ? M.amountHtml(n) : t("金額を入力", "Enter amount");
    d.classList.toggle("empty", !n);
    M.$("#amount-next").disabled = !n;
    M.$("#amount-hint").textContent = "";
  }

  function confirm() {
    sale.key = sale.key || M.newKey();
    if (sale.kind === "card") { return askPin(); }
    M.$("#confirm-who").textContent = sale.who || "";
    M.$("#confirm-amount").innerHTML = M.amountHtml(sale.amount);
    M.$("#confirm-live").innerHTML = M.liveHtml("confirm");
    M.$("#confirm-error").innerHTML = "";
    M.$("#confirm-rescan").classList.add("hidden");
    M.$("#confirm-pay").classList.remove("hidden");
    M.startLive();
    M.show("s-confirm");
  }

  function askPin() {
    M.$("#pin-amount").innerHTML = M.amountHtml(sale.amount);
    M.$("#pin-card").textContent = t("カード ", "Card ") + sale.display;
    M.$("#pin-error").innerHTML = "";
    pinPad.set("");
    M.show("s-pin");
  }

  function onPin(v) {
    document.querySelectorAll("#pin-dots span").forEach(function (dot, i) { dot.classList.toggle("on", i < v.length); });
    M.$("#pin-pay").disabled = v.length !== 4;
  }

  function submit(body, button, errorBox, onError) {
    if (busy) { return; }
    busy = true;
    var label = button.textContent;
    button.disabled = true;
    button.textContent = t("処理中…", "Working…");
    body.amount = sale.amount;
    body.idempotency_key = sale.key;
    body.merchant_code = shop.code;
    M.api("POST", "/api/payments", body).then(function (res) {
      if (res.request) { return wait(res.request); }  /* the customer confirms on her phone first */
      receipt(res);
    }).catch(function (err) {
      M.$(errorBox).innerHTML = M.errorHtml(err);
      if (err.status >= 400 && err.status < 500) { sale.key = M.newKey(); } /* refused: nothing moved */
      if (onError) { onError(err); }
    }).then(function () {
      busy = false;
      button.disabled = false;
      button.textContent = label;
    });
  }

  function payCpm() {
    submit({ cpm_token: sale.token }, M.$("#confirm-pay"), "#confirm-error", function (err) {
      if (err.code === "token_expired" || err.code === "token_used") {
        M.$("#confirm-pay").classList.add("hidden");
        M.$("#confirm-rescan").classList.remove("hidden");
      }
    });
  }

  function payCard() {
    submit({ card_number: sale.number, pin: pinPad.get() }, M.$("#pin-pay"), "#pin-error", function (err) {
      pinPad.set("");
      if (err.code === "card_locked") { fail(err); }
    });
  }

  /* ---------- waiting for the customer's 支払う ---------- */
  function wait(req) {
    waitingFor = req;
    var endsAt = Date.now() + req.seconds_left * 1000;
    M.$("#wait-amount").innerHTML = M.amountHtml(req.amount);
    M.$("#wait-error").innerHTML = "";
    stopWait();
    var tick = function () { M.$("#wait-seconds").textContent = Math.max(0, Math.round((endsAt - Date.now()) / 1000)); };
    tick();
    waitTimer = setInterval(tick, 1000);
    waitPoll = setInterval(function () {
      M.api("GET", "/api/payment-requests/" + encodeURIComponent(req.id)).then(answered)
        .catch(function () { /* the next poll tries again */ });
    }, 1500);
    M.show("s-wait");
  }

  function answered(res) {
    var r = res.request;
    if (!waitingFor || r.id !== waitingFor.id || r.state === "pending") { return; }
    stopWait();
    waitingFor = null;
    if (r.state === "paid") { return receipt({ payment: r.payment }); }
    var said = {
      declined: t("お客様がお支払いをやめました。お金は動いていません。", "The customer did not pay. No money moved."),
      expired: t("お客様の確認がないまま時間が過ぎました。お金は動いていません。もう一度読み取ってください。",
        "The customer did not confirm in time. No money moved. Please scan again.")
    }[r.state] || r.reason || t("お支払いできませんでした。", "The payment did not go through.");
    fail(new M.ApiError(0, "request_" + r.state, said));
  }

  function stopWait() {
    [waitTimer, waitPoll].forEach(function (x) { if (x) { clearInterval(x); } });
    waitTimer = waitPoll = null;
  }

  function callOff() {
    if (!waitingFor) { return home(); }
    var id = waitingFor.id;
    M.api("POST", "/api/payment-requests/" + encodeURIComponent(id) + "/decline", {}).then(function (res) {
      if (res.request.state === "declined") { stopWait(); waitingFor = null; return home(); }
      answered(res);  /* she had already paid: the receipt */
    }).catch(function (err) { M.$("#wait-error").innerHTML = M.errorHtml(err); });
  }

  function receipt(res) {
    var p = res.payment;
    M.$("#receipt-amount").innerHTML = M.amountHtml(p.amount);
    M.$("#receipt-live").innerHTML = M.liveHtml();
    M.$("#receipt-at").textContent = p.channel_label + M.sep() + p.at_label;
    M.$("#receipt-breakdown").innerHTML = M.breakdownHtml(p.breakdown);
    M.startLive();
    sale = null;
    M.show("s-receipt");
  }

  /* ---------- sales and refunds ---------- */
  function sales(more) {
    var url = "/api/till/summary?" + q() + "&days_back=" + daysBack;
    if (more && salesRows.length) { url += "&before=" + salesRows[salesRows.length - 1].id; }
    M.api("GET", url).then(function (s) {
      salesRows = more ? salesRows.concat(s.payments) : s.payments;
      M.$("#sales-title").textContent = s.day_label + t("の売上", " sales");
      M.$("#sales-total").innerHTML = M.amountHtml(s.net);
      M.$("#sales-count").textContent = t(s.sales.count + "件 " + M.yen(s.sales.total) + "円、返金 " + s.refunds.count + "件 " + M.yen(s.refunds.total) + "円",
        s.sales.count + " payments " + M.yen(s.sales.total) + " yen, " + s.refunds.count + " refunds " + M.yen(s.refunds.total) + " yen");
      M.$("#sales-next").disabled = daysBack === 0;
      M.$("#sales-prev").disabled = daysBack >= 30;
      M.$("#sales-more").classList.toggle("hidden", !s.next_before);
      renderSales();
      M.show("s-sales");
    }).catch(function (e) { fail(e); });
  }

  function renderSales() {
    var list = M.$("#sales-list");
    list.innerHTML = salesRows.length ? "" : '<li class="muted">' + t("この日のお支払いはありません。", "No payments this day.") + "</li>";
    salesRows.forEach(function (p) {
      var li = document.createElement("li");
      li.innerHTML = '<div class="line"><span>' + M.esc(p.time_label) + M.sep() + M.esc(p.channel_label) + '</span><span class="value">' +
        M.yen(p.amount) + '<span class="small">' + t("円", " yen") + "</span></span></div>";
      if (p.refunded) {
        li.insertAdjacentHTML("beforeend", '<span class="badge">' + t("返金済み", "Refunded") + "</span>");
      } else if (p.refundable) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "quiet";
        b.setAttribute("data-refund", p.id);
        b.textContent = t("返金する", "Refund");
        b.addEventListener("click", function () { askRefund(p); });
        li.appendChild(b);
      }
      list.appendChild(li);
    });
  }

  function askRefund(p) {
    refundTarget = p;
    M.$("#refund-amount").innerHTML = M.amountHtml(p.amount);
    M.$("#refund-when").textContent = M.$("#sales-title").textContent.replace(t("の売上", " sales"), "") + " " + p.time_label + M.sep() + p.channel_label;
    M.$("#refund-error").innerHTML = "";
    M.show("s-refund");
  }

  function refund() {
    if (busy) { return; }
    busy = true;
    var btn = M.$("#refund-go");
    btn.disabled = true;
    M.api("POST", "/api/payments/" + refundTarget.id + "/refund", {}).then(function (res) {
      M.$("#refunded-amount").innerHTML = M.amountHtml(res.refund.amount);
      M.$("#refunded-live").innerHTML = M.liveHtml();
      M.startLive();
      M.show("s-refunded");
    }).catch(function (err) {
      M.$("#refund-error").innerHTML = M.errorHtml(err);
    }).then(function () { busy = false; btn.disabled = false; });
  }

  /* ---------- wiring ---------- */
  document.addEventListener("DOMContentLoaded", function () {
    amountPad = M.keypad(M.$("#amount-keypad"), amountOpts = {
      max: 6, doubleZero: true, numeric: true, onChange: onAmount, limit: 100000,
      onTooLong: function () {
        var max = (M.me() && M.me().max_payment) || 100000;
        M.$("#amount-hint").textContent = t("1回のお支払いは" + M.yen(max) + "円までです。", "One payment is at most " + M.yen(max) + " yen.");
      }
    });
    pinPad = M.keypad(M.$("#pin-keypad"), { max: 4, onChange: onPin });
    cardPad = M.keypad(M.$("#cardnum-keypad"), {
      max: 12, onChange: function (v) {
        var d = M.$("#cardnum-display");
        d.textContent = v ? v.replace(/(\d{4})(?=\d)/g, "$1 ") : "____ ____ ____";
        M.$("#cardnum-next").disabled = v.length !== 12;
      }
    });
    M.$("#scan").addEventListener("click", function () { scan(false); });
    M.$("#type-card").addEventListener("click", function () { cardPad.set(""); M.show("s-cardnum"); });
    M.$("#cardnum-next").addEventListener("click", function () { startCard(cardPad.get()); });
    M.$("#cardnum-back").addEventListener("click", home);
    M.$("#amount-next").addEventListener("click", confirm);
    M.$("#amount-cancel").addEventListener("click", home);
    M.$("#confirm-pay").addEventListener("click", payCpm);
    M.$("#confirm-rescan").addEventListener("click", function () { scan(true); });
    M.$("#confirm-fix").addEventListener("click", function () { askAmount(sale.who); });
    M.$("#confirm-cancel").addEventListener("click", home);
    M.$("#pin-pay").addEventListener("click", payCard);
    M.$("#wait-cancel").addEventListener("click", callOff);
    M.$("#pin-cancel").addEventListener("click", home);
    M.$("#receipt-next").addEventListener("click", home);
    M.$("#to-sales").addEventListener("click", function () { daysBack = 0; sales(false); });
    M.$("#sales-prev").addEventListener("click", function () { daysBack += 1; sales(false); });
    M.$("#sales-next").addEventListener("click", function () { daysBack = Math.max(0, daysBack - 1); sales(false); });
    M.$("#sales-more").addEventListener("click", function () { sales(true); });
    M.$("#sales-back").addEventListener("click", home);
    M.$("#refund-go").addEventListener("click", refund);
    M.$("#refund-cancel").addEventListener("click", function () { sales(false); });
    M.$("#refunded-back").addEventListener("click", function () { sales(false); });
    M.$("#to-shopqr").addEventListener("click", function () {
      M.$("#shopqr-name").textContent = shop.name;
      M.$("#shopqr-img").src = "/liff/shop-qr/" + encodeURIComponent(shop.code) + ".svg";
      M.show("s-shopqr");
    });
    M.$("#shopqr-back").addEventListener("click", home);
    M.$("#change-shop").addEventListener("click", function () { localStorage.removeItem(SHOP_KEY); chooseShop(M.me()); });
    M.$("#close").addEventListener("click", M.close);
    M.start().then(function (me) {
      if (!me) { return; }
      amountOpts.limit = me.max_payment;
      if (!me.merchants.length) { return M.show("s-notstaff"); }
      chooseShop(me);
    }).catch(function (e) { fail(e, function () { location.reload(); }); });
  });
})();
