/*
 * What every LIFF page shares: LIFF start-up, the API call with the ID token, Japanese/English,
 * screens, the big keypad, the live clock (the moving element), and idempotency keys.
 * Plain ES2017, no build step.
 */
(function () {
  "use strict";
  var lang = "ja";
  var me = null;

  function t(ja, en) { return lang === "en" && en ? en : ja; }

  /* Names side by side: 「A・B」 in Japanese, "A · B" in English (the nakaguro is not English type). */
  function join(parts) { return parts.join(t("・", " · ")); }
  function sep() { return t(" ・ ", " · "); }

  function yen(n) { return Number(n || 0).toLocaleString("ja-JP"); }

  function amountHtml(n) { return yen(n) + '<span class="yen">' + t("円", "yen") + "</span>"; }

  function $(sel) { return document.querySelector(sel); }

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /* Japanese is in the HTML; elements with data-en switch when /api/me says the person reads English. */
  function applyLanguage() {
    document.documentElement.lang = lang;
    if (lang !== "en") { return; }
    document.querySelectorAll("[data-en]").forEach(function (el) { el.textContent = el.getAttribute("data-en"); });
    document.querySelectorAll("[data-en-placeholder]").forEach(function (el) {
      el.setAttribute("placeholder", el.getAttribute("data-en-placeholder"));
    });
    document.querySelectorAll("[data-en-aria-label]").forEach(function (el) {
      el.setAttribute("aria-label", el.getAttribute("data-en-aria-label"));
    });
  }

  function show(id) {
    document.querySelectorAll(".screen").forEach(function (el) { el.classList.toggle("active", el.id === id); });
    window.scrollTo(0, 0);
    var heading = document.querySelector("#" + id + " h1");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: true }); }
    document.body.setAttribute("data-screen", id);
  }

  function ApiError(status, code, message) {
    this.status = status; this.code = code; this.message = message;
  }

  function api(method, path, body) {
    var token = null;
    try { token = window.liff.getIDToken(); } catch (e) { token = null; }
    var opts = { method: method, headers: { "Accept": "application/json" } };
    if (token) { opts.headers.Authorization = "Bearer " + token; }
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        if (res.ok) { return data; }
        var err = (data && data.error) || {};
        throw new ApiError(res.status, err.code || "http_" + res.status,
          err.message || t("うまく処理できませんでした。もう一度お試しください。", "Something went wrong. Please try again."));
      });
    }, function () {
      throw new ApiError(0, "network", t(
        "通信できませんでした。電波の良い所で、もう一度お試しください。同じお支払いが二重になることはありません。",
        "Could not connect. Please try again where the signal is better. You will not be charged twice."));
    });
  }

  /* Starts LIFF, gets /api/me, switches language. Resolves with me (null when not logged in). */
  function start() {
    var liffId = document.body.getAttribute("data-liff-id");
    return window.liff.init({ liffId: liffId }).then(function () {
      if (!window.liff.isLoggedIn()) {
        window.liff.login({ redirectUri: location.href });
        return null;
      }
      return api("GET", "/api/me").then(function (data) {
        me = data;
        lang = data.language === "en" ? "en" : "ja";
        applyLanguage();
        return data;
      });
    });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function fnKey(b, aria, en) {
    b.className = "key-fn";
    b.setAttribute("aria-label", t(aria[0], aria[1]));
    b.setAttribute("data-en-aria-label", aria[1]);
    b.setAttribute("data-en", en);
  }

  /* A big keypad. opts: {max: digits, value: initial string, doubleZero: bool, onChange(str)} */
  function keypad(el, opts) {
    var value = opts.value || "";
    var keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", opts.doubleZero ? "00" : "C", "0", "⌫"];
    /* ATM words older people know: 訂正 clears, 1字消す takes back one digit */
    var shown = { "C": t("訂正", "Clear"), "⌫": t("1字消す", "Delete") };
    el.innerHTML = "";
    el.classList.add("keypad");
    keys.forEach(function (k) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = shown[k] || k;
      b.setAttribute("data-key", k);
      /* data-en too: a keypad drawn before /api/me said the language switches with the page */
      if (k === "⌫") { fnKey(b, ["1文字消す", "Delete"], "Delete"); }
      if (k === "C") { fnKey(b, ["全部消す", "Clear"], "Clear"); }
      b.addEventListener("click", function () {
        var next = value;
        if (k === "⌫") { next = value.slice(0, -1); }
        else if (k === "C") { next = ""; }
        else { next = (value === "0" ? "" : value) + k; }
        if (opts.numeric && next !== "" && /^0+$/.test(next)) { next = ""; }
        if (next.length > opts.max) { if (opts.onTooLong) { opts.onTooLong(); } return; }
        if (opts.limit && next !== "" && Number(next) > opts.limit) { if (opts.onTooLong) { opts.onTooLong(); } return; }
        value = next;
        opts.onChange(value);
      });
      el.appendChild(b);
    });
    return {
      get: function () { return value; },
      set: function (v) { value = v; opts.onChange(value); }
    };
  }

  /* The moving element: a clock with seconds and a sliding stripe, redrawn 4 times a second. */
  var liveTimer = null;
  function startLive() {
    function tick() {
      var now = new Date();
      var hh = ("0" + now.getHours()).slice(-2), mm = ("0" + now.getMinutes()).slice(-2), ss = ("0" + now.getSeconds()).slice(-2);
      var date = lang === "en"
        ? now.toLocaleDateString("en-US", { month: "short", day: "numeric", weekday: "short" })
        : (now.getMonth() + 1) + "月" + now.getDate() + "日（" + "日月火水木金土".charAt(now.getDay()) + "）";
      document.querySelectorAll(".live .clock").forEach(function (el) { el.textContent = hh + ":" + mm + ":" + ss; });
      document.querySelectorAll(".live .date-text").forEach(function (el) { el.textContent = date + t("　いまの時刻", " — live"); });
    }
    tick();
    if (!liveTimer) { liveTimer = setInterval(tick, 250); }
  }

  function liveHtml(kind) {
    return '<div class="live ' + (kind || "") + '" aria-hidden="true"><div class="clock">--:--:--</div>' +
      '<div class="date"><span class="pulse"></span><span class="date-text"></span></div><div class="stripe"></div></div>';
  }

  function close() {
    if (window.liff && window.liff.isInClient && window.liff.isInClient()) { window.liff.closeWindow(); }
    else { location.href = "/liff/pay"; }
  }

  function scan() {
    if (!window.liff.scanCodeV2) {
      return Promise.reject(new ApiError(0, "no_scanner", t("この端末ではQRコードを読み取れません。", "This device cannot scan codes.")));
    }
    return window.liff.scanCodeV2().then(function (r) { return (r && r.value ? String(r.value) : "").trim(); });
  }

  function breakdownHtml(items) {
    if (!items || !items.length) { return ""; }
    return '<ul class="list small">' + items.map(function (b) {
      return '<li class="line"><span>' + esc(b.name) + "</span><span>" + yen(b.amount) + t("円", " yen") + "</span></li>";
    }).join("") + "</ul>";
  }

  /* Why this person cannot use a resident's page, or null: not registered, or withdrawn (an old
     link still opens the page; it must not show balances and pay buttons, and says how to come back). */
  function notUsable(me) {
    if (!me.registered) {
      return new ApiError(403, "not_registered", t(
        "まだ利用登録がお済みでありません。LINEのトーク画面で「登録」と送って登録してください。",
        "You are not registered yet. Send \"register\" in the LINE chat to sign up."));
    }
    if (me.status === "withdrawn") {
      return new ApiError(403, "withdrawn", t(
        "退会の手続きが済んでいます。もう一度使うときは、LINEのトーク画面で「登録」と送ってください。残高は有効期限まで残っています。",
        "You have withdrawn. To use it again, send \"register\" in the LINE chat. Your balance stays until it expires."));
    }
    return null;
  }

  function errorHtml(err) {
    return '<div class="notice bad" role="alert">' + esc(err && err.message ? err.message : String(err)) + "</div>";
  }

  window.Machi = {
    t: t, join: join, sep: sep, yen: yen, amountHtml: amountHtml, $: $, esc: esc, show: show, api: api, start: start,
    newKey: newKey, keypad: keypad, startLive: startLive, liveHtml: liveHtml, close: close, scan: scan,
    breakdownHtml: breakdownHtml, errorHtml: errorHtml, ApiError: ApiError, notUsable: notUsable,
    me: function () { return me; }, lang: function () { return lang; }
  };
})();
