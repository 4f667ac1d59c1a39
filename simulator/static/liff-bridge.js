/*
 * The simulator's side of the LIFF contract (simulator/LIFF_CONTRACT.md): LIFF pages open in a
 * phone-sized frame as a persona; their scanner asks the simulator; a scanner can read the QR that
 * another phone's frame shows.
 *
 *   frame → parent  {type: "scan-request", id}               the page called liff.scanCodeV2()
 *   parent → frame  {type: "scan-result", id, value} | {type: "scan-cancel", id}
 *   parent → frame  {type: "what-do-you-show", id}
 *   frame → parent  {type: "showing", id, value, label}      value: the visible QR's payload or null
 *
 * Same-origin pages are also read and adjusted directly (window.currentQrPayload, [data-payload],
 * the shop QR image; the shim's scanCodeV2), so pages that do not speak the messages yet still work.
 */
(function () {
  "use strict";
  var SHIM_KEY = "machi-liff-shim";
  var pending = {};
  var counter = 0;
  var phoneFor = function () { return null; };

  /* https://liff.line.me/<liffId>/pay?x=1 → /liff/pay?x=1 (the LIFF endpoint URL is <server>/liff). */
  function liffPath(uri) {
    var m = /^(?:https:\/\/liff\.line\.me\/|line:\/\/app\/)([A-Za-z0-9-]+)([/?#].*)?$/.exec(uri || "");
    if (!m) { return null; }
    var rest = m[2] || "";
    return rest.charAt(0) === "/" ? "/liff" + rest : "/liff/" + rest;
  }

  function withParam(path, key, value) {
    var u = new URL(path, location.origin);
    u.searchParams.set(key, value);
    return u.pathname + u.search + u.hash;
  }

  /* The QR a framed page shows now: {value} or null; undefined when the page cannot be read. */
  function readShowing(frame) {
    try {
      var w = frame.contentWindow;
      if (w.currentQrPayload) { return { value: String(w.currentQrPayload), label: w.currentQrLabel || "" }; }
      var d = w.document;
      var scope = d.querySelector(".screen.active") || d.body;
      if (!scope) { return null; }
      var p = scope.querySelector("[data-payload]");
      if (p && p.getAttribute("data-payload")) { return { value: p.getAttribute("data-payload") }; }
      var img = scope.querySelector("img[src*='/liff/shop-qr/']");
      var m = img && /\/liff\/shop-qr\/([^/?#]+)\.svg/.exec(img.getAttribute("src") || "");
      return m ? { value: "MWS." + decodeURIComponent(m[1]) } : null;
    } catch (e) {
      return undefined;
    }
  }

  function askShowing(frame) {
    if (!frame || !frame.contentWindow) { return Promise.resolve(null); }
    var direct = readShowing(frame);
    if (direct !== undefined) { return Promise.resolve(direct); }
    return new Promise(function (resolve) {
      var id = "show-" + (++counter);
      pending[id] = resolve;
      frame.contentWindow.postMessage({ type: "what-do-you-show", id: id }, "*");
      setTimeout(function () { if (pending[id]) { delete pending[id]; resolve(null); } }, 500);
    });
  }

  window.addEventListener("message", function (ev) {
    var data = ev.data || {};
    if (data.type === "showing" && pending[data.id]) {
      pending[data.id](data.value ? { value: String(data.value), label: data.label || "" } : null);
      delete pending[data.id];
    } else if (data.type === "scan-request") {
      var phone = phoneFor(ev.source);
      if (!phone) { return; }
      phone.scan().then(function (value) {
        ev.source.postMessage({ type: "scan-result", id: data.id, value: value }, "*");
      }, function () {
        ev.source.postMessage({ type: "scan-cancel", id: data.id }, "*");
      });
    }
  });

  /*
   * After each page load in a persona's frame. The two frames share the tab's sessionStorage, where
   * the shim keeps its token between pages, so: put this persona's token back just before the frame
   * leaves a page, and reload with ?id_token= if a page still came up as someone else.
   * Returns false when it had to reload.
   */
  function adopt(frame, persona, token, onScan) {
    var w;
    try { w = frame.contentWindow; if (!w.document) { return true; } } catch (e) { return true; }
    var saved = JSON.stringify({ idToken: token, profile: { userId: persona.id, displayName: persona.name } });
    w.addEventListener("pagehide", function () {
      try { sessionStorage.setItem(SHIM_KEY, saved); } catch (e) { /* storage off: ?id_token= still works */ }
    });
    if (!w.liff || !w.liff._shim) { return true; }
    var current = null;
    try { current = w.liff.getIDToken(); } catch (e) { current = null; }
    if (current && current !== token) {
      w.location.replace(withParam(w.location.pathname + w.location.search, "id_token", token));
      return false;
    }
    if (!w.liff._parentScan) {
      w.liff.scanCodeV2 = function () { return onScan().then(function (v) { return { value: v }; }); };
    }
    return true;
  }

  window.SimLiff = {
    liffPath: liffPath, withParam: withParam, askShowing: askShowing, adopt: adopt,
    setPhoneLookup: function (fn) { phoneFor = fn; }, SHIM_KEY: SHIM_KEY
  };
})();
