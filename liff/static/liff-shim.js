/*
 * LIFF stand-in for dev and tests (never served to production pages): the part of the LIFF SDK
 * the pages use — init, isLoggedIn, login, getIDToken, getProfile, getLanguage, isInClient,
 * scanCodeV2, closeWindow.
 *
 * Where the ID token and scans come from, first match wins:
 *   window.__LIFF_SHIM__ = {idToken, profile: {userId, displayName}, scans: ["MWS.M001", ...], inClient}
 *     (tests set it with an init script before the page loads)
 *   ?id_token=<token> in the page URL (the simulator opens pages this way; kept for the tab's session)
 *   sessionStorage "machi-liff-shim" (what an earlier page of the same tab was given)
 * scanCodeV2 takes the next queued scan, else asks for the text with a prompt (dev by hand).
 */
(function () {
  "use strict";
  var STORE = "machi-liff-shim";
  var cfg = window.__LIFF_SHIM__ || {};
  var saved = {};
  try { saved = JSON.parse(sessionStorage.getItem(STORE) || "{}"); } catch (e) { saved = {}; }
  var params = new URLSearchParams(location.search);
  var token = cfg.idToken || params.get("id_token") || saved.idToken || "";
  var profile = cfg.profile || saved.profile || { userId: "", displayName: "" };
  if (token) {
    try { sessionStorage.setItem(STORE, JSON.stringify({ idToken: token, profile: profile })); } catch (e) { /* private mode */ }
  }
  if (params.has("id_token")) {
    params.delete("id_token");
    var rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
  }
  var scans = Array.isArray(cfg.scans) ? cfg.scans : [];
  var initialized = false;

  window.liff = {
    id: null,
    _shim: true,
    init: function (opts) {
      window.liff.id = (opts && opts.liffId) || null;
      initialized = true;
      return Promise.resolve();
    },
    ready: Promise.resolve(),
    isLoggedIn: function () { return !!token; },
    login: function () {
      document.body.insertAdjacentHTML("afterbegin",
        '<div class="notice bad" id="shim-login">（開発用）IDトークンがありません。URLに ?id_token=... を付けて開いてください。</div>');
    },
    logout: function () { token = ""; sessionStorage.removeItem(STORE); },
    getIDToken: function () {
      if (!initialized) { throw new Error("liff.init() has not been called"); }
      return token || null;
    },
    getDecodedIDToken: function () { return token ? { sub: profile.userId, name: profile.displayName } : null; },
    getProfile: function () { return Promise.resolve(profile); },
    getLanguage: function () { return cfg.language || navigator.language || "ja"; },
    getOS: function () { return "web"; },
    isInClient: function () { return cfg.inClient !== false; },
    isApiAvailable: function () { return true; },
    scanCodeV2: function () {
      if (scans.length) { return Promise.resolve({ value: String(scans.shift()) }); }
      var typed = window.prompt("（開発用）読み取るQRコードの内容を入力してください");
      if (typed === null) { return Promise.reject(new Error("scan cancelled")); }
      return Promise.resolve({ value: typed });
    },
    closeWindow: function () {
      cfg.closed = true;
      window.__LIFF_SHIM__ = cfg;
      document.body.insertAdjacentHTML("afterbegin", '<div class="notice ok" id="shim-closed">（開発用）LIFFを閉じました</div>');
    },
    _queueScan: function (value) { scans.push(value); }
  };
})();
