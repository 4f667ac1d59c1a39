/*
 * The LINE simulator's chat UI: phones side by side, each played as one persona of the demo town.
 * A phone shows the persona's chat with the town account (polled from /simulator/api/messages),
 * quick replies, the rich menu the platform links to them, and LIFF pages in a sheet. What the
 * persona does becomes a signed webhook to the app's /callback (POST /simulator/api/events).
 * Plain ES2017, no build step, no CDN.
 */
(function () {
  "use strict";
  var F = window.SimFlex, L = window.SimLiff, el = F.el;
  var POLL_MS = 700;
  var AVATAR = "町";
  var state = { personas: [], byId: {}, phones: [], choices: null, violationsSeen: 0, violationsShown: 0,
                status: null, logAfter: 0 };

  function api(method, path, body) {
    var opts = { method: method, headers: { "Accept": "application/json" } };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (res.ok) { return data; }
        var err = new Error((data && data.error && data.error.message) || ("HTTP " + res.status));
        err.status = res.status;
        throw err;
      });
    });
  }

  function hhmm(ms) {
    var d = new Date(ms);
    return d.getHours() + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function today() {
    var d = new Date();
    return "今日 " + (d.getMonth() + 1) + "/" + d.getDate() + "(" + "日月火水木金土".charAt(d.getDay()) + ")";
  }

  function describe(value) {
    if (/^MW1\./.test(value)) { return "お支払い用QR（1回限り）"; }
    if (/^MWS\./.test(value)) {
      var shop = (state.shopNames || {})[value];
      return "お店のQR " + (shop ? shop + "（" + value.slice(4) + "）" : value.slice(4));
    }
    if (/^MWE\./.test(value)) { return "イベントのQR " + value.slice(4); }
    if (/^\d{12}$/.test(value)) { return "カード " + value.replace(/(\d{4})(?=\d)/g, "$1 "); }
    return value.length > 40 ? value.slice(0, 40) + "…" : value;
  }

  /* ================================================================ one phone */

  function Phone(slotName, userId) {
    this.slotName = slotName;
    this.root = document.getElementById("phone-template").content.firstElementChild.cloneNode(true);
    this.root.setAttribute("data-slot", slotName);
    this.q = this.root.querySelector.bind(this.root);
    this.reset();
    this.wire();
    document.getElementById("phones").appendChild(this.root);
    this.fillSelect();
    this.setPersona(userId);
  }

  Phone.prototype.reset = function () {
    this.after = 0;
    this.menuId = undefined;
    this.menu = null;
    this.mode = "menu";
    this.lastRow = null;
    this.quick = null;
    this.tokens = this.tokens || {};
    this.polling = false;
    this.generation = (this.generation || 0) + 1;
  };

  Phone.prototype.wire = function () {
    var self = this;
    this.q(".persona-select").addEventListener("change", function (ev) { self.setPersona(ev.target.value); saveUrl(); });
    this.q(".remove-phone").addEventListener("click", function () { removePhone(self); });
    this.q(".send").addEventListener("click", function () { self.sendTyped(); });
    this.q(".input").addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.isComposing) { ev.preventDefault(); self.sendTyped(); }
    });
    this.q(".to-menu").addEventListener("click", function () { self.setMode("menu"); });
    this.q(".to-keyboard").addEventListener("click", function () { self.setMode("keyboard"); self.q(".input").focus(); });
    this.q(".chatbar-text").addEventListener("click", function () { self.q(".rm-image").classList.toggle("closed"); self.scrollDown(); });
    this.q(".plus").addEventListener("click", function () { self.q(".file").click(); });
    this.q(".file").addEventListener("change", function (ev) { self.sendImage(ev.target.files[0]); ev.target.value = ""; });
    this.q(".add-friend").addEventListener("click", function () { self.send("follow", {}); });
    this.q(".more").addEventListener("click", function () { self.q(".more-menu").hidden = !self.q(".more-menu").hidden; });
    this.q(".block").addEventListener("click", function () { self.q(".more-menu").hidden = true; self.send("unfollow", {}); });
    this.q(".reload").addEventListener("click", function () { self.q(".more-menu").hidden = true; self.setPersona(self.userId); });
    this.q(".back").addEventListener("click", function () { self.closeLiff(); });
    this.q(".liff-close").addEventListener("click", function () { self.closeLiff(); });
    this.q(".liff-frame").addEventListener("load", function () { self.frameLoaded(); });
    this.q(".office-resident").addEventListener("change", function () { self.officeFacts(); });
    this.q(".office-verify").addEventListener("click", function () { self.officeAct("verify"); });
    this.q(".office-birth").addEventListener("click", function () { self.officeAct("birth"); });
    this.q(".office-grant").addEventListener("click", function () { self.officeAct("grant"); });
  };

  Phone.prototype.fillSelect = function () {
    var select = this.q(".persona-select");
    var current = select.value || this.userId;
    select.innerHTML = "";
    var groups = [
      ["住民（デモの町）", function (p) { return p.known && (p.role === "resident" || p.role === "guest"); }],
      ["お店", function (p) { return p.role === "shop"; }],
      ["役場", function (p) { return p.role === "staff"; }],
      ["スマホなし（カードで払う）", function (p) { return p.role === "card"; }],
      ["ほかの住民", function (p) { return !p.known && p.role === "resident"; }]
    ];
    var used = {};
    groups.forEach(function (g) {
      var group = el("optgroup");
      group.label = g[0];
      state.personas.forEach(function (p) {
        if (used[p.id] || !g[1](p)) { return; }
        used[p.id] = true;
        var o = el("option", null, p.name + "（" + p.note + "）");
        o.value = p.id;
        group.appendChild(o);
      });
      if (group.children.length) { select.appendChild(group); }
    });
    if (current) { select.value = current; }
  };

  Phone.prototype.persona = function () {
    return state.byId[this.userId] || { id: this.userId, name: this.userId, note: "", role: "guest", shops: [] };
  };

  Phone.prototype.isCard = function () { return /^card:/.test(this.userId || ""); };

  Phone.prototype.isOffice = function () { return this.persona().role === "staff"; };

  /* ---------------------------------------------------------------- the town office's counter (staff) */

  var VERIFICATION = { unverified: "本人確認まだ", counter: "本人確認済み（窓口）", mynumber: "本人確認済み（マイナンバーカード）" };

  Phone.prototype.loadOffice = function () {
    var self = this;
    return api("GET", "/simulator/api/office").then(function (data) {
      var sel = self.q(".office-resident"), keep = sel.value;
      sel.innerHTML = "";
      self.officeRows = {};
      data.residents.forEach(function (r) {
        self.officeRows[r.id] = r;
        var o = el("option", null, r.name + "（" + r.district + "）");
        o.value = String(r.id);
        sel.appendChild(o);
      });
      if (keep && self.officeRows[keep]) { sel.value = keep; }
      var prog = self.q(".office-program"), keepProg = prog.value;
      prog.innerHTML = "";
      data.programs.forEach(function (g) {
        var o = el("option", null, g.name + " " + g.amount.toLocaleString("ja-JP") + "円");
        o.value = g.code;
        prog.appendChild(o);
      });
      if (keepProg) { prog.value = keepProg; }
      self.officeFacts();
    }).catch(function (err) { self.q(".office-result").textContent = err.message; });
  };

  Phone.prototype.officeFacts = function () {
    var r = (this.officeRows || {})[this.q(".office-resident").value];
    this.q(".office-facts").textContent = r ? (VERIFICATION[r.verification] || r.verification) + "・子ども "
      + r.children + " 人" + (r.line_user_id ? "・LINE 登録あり" : "") : "LINE で登録した住民がいません。";
  };

  Phone.prototype.officeAct = function (action) {
    var self = this, out = this.q(".office-result");
    out.className = "office-result";
    out.textContent = "処理中…";
    return api("POST", "/simulator/api/office", { action: action, resident_id: this.q(".office-resident").value,
                                                   program: this.q(".office-program").value })
      .then(function (d) { out.textContent = d.message; out.classList.add("ok"); return self.loadOffice(); })
      .catch(function (err) { out.textContent = err.message; out.classList.add("bad"); });
  };

  Phone.prototype.setPersona = function (userId) {
    this.userId = userId;
    this.root.setAttribute("data-user", userId);
    this.reset();
    this.closeLiff();
    this.q(".persona-select").value = userId;
    var p = this.persona();
    this.q(".persona-note").textContent = "";
    this.refreshNote();
    this.q(".chat").innerHTML = "";
    this.q(".chat").appendChild(el("div", "row system", null)).appendChild(el("span", "date-pill", today()));
    this.showQuick(null);
    this.q(".counter").hidden = !this.isCard();
    this.q(".office").hidden = !this.isOffice();
    this.q(".phone").hidden = this.isCard() || this.isOffice();
    if (this.isOffice()) {
      this.q(".office-result").textContent = "";
      this.loadOffice();
      return;
    }
    if (this.isCard()) {
      this.q(".card-qr").src = "/simulator/api/qr.svg?data=" + encodeURIComponent(p.card.number);
      this.q(".card-number").textContent = p.card.number.replace(/(\d{4})(?=\d)/g, "$1 ");
      this.q(".card-name").textContent = p.name + " 様";
      this.q(".card-pin").textContent = p.card.pin;
      return;
    }
    this.loadMenu();
    this.poll();
  };

  /* ---------------------------------------------------------------- polling and drawing */

  Phone.prototype.poll = function () {
    var self = this, gen = this.generation;
    if (this.polling || this.isCard() || this.isOffice() || !this.userId) { return Promise.resolve(); }
    this.polling = true;
    return api("GET", "/simulator/api/messages?user=" + encodeURIComponent(this.userId) + "&after=" + this.after)
      .then(function (data) {
        if (gen !== self.generation) { return; }
        data.entries.forEach(function (e) { self.draw(e); });
        if (data.entries.length) { self.after = data.entries[data.entries.length - 1].seq; self.scrollDown(); }
        self.showLoading(data.loading_until);
        self.q(".friend-gate").hidden = data.following;
        if (data.menu !== self.menuId) { self.loadMenu(); }
        if (data.violations > state.violationsSeen) { pollViolations(); }
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { self.polling = false; });
  };

  Phone.prototype.draw = function (e) {
    var chat = this.q(".chat");
    var loading = chat.querySelector(".row.loading");
    var row;
    if (e.from === "system") {
      row = el("div", "row system " + e.level);
      row.appendChild(el("span", "note", e.message.text));
    } else {
      var self = this;
      var drawn = F.render(e.message, { act: function (a) { self.act(a); } });
      row = el("div", "row " + e.from);
      row.setAttribute("data-seq", e.seq);
      var line = el("div", "line");
      var holder = el("div", drawn.plain ? "bubble" : "rich");
      holder.appendChild(drawn.node);
      var meta = el("div", "meta");
      if (e.from === "user") { meta.appendChild(el("span", "read", "既読")); }
      meta.appendChild(el("span", "time", hhmm(e.at)));
      if (e.via) { meta.title = e.via + (e.request_id ? " · " + e.request_id : ""); }
      var first = !(this.lastRow && this.lastRow.from === e.from && e.at - this.lastRow.at < 60000);
      if (e.from === "bot") {
        row.appendChild(el("div", first ? "avatar" : "avatar spacer", first ? AVATAR : ""));
        var col = el("div", "col");
        if (first) { col.appendChild(el("div", "name", "まちウォレット")); }
        if (first && drawn.plain) { holder.classList.add("tail"); }
        line.appendChild(holder);
        line.appendChild(meta);
        col.appendChild(line);
        row.appendChild(col);
      } else {
        if (first && drawn.plain) { holder.classList.add("tail"); }
        line.appendChild(meta);
        line.appendChild(holder);
        row.appendChild(line);
      }
      this.lastRow = { from: e.from, at: e.at };
      if (e.from === "bot") { this.showQuick(e.message.quickReply ? e.message.quickReply.items : null); }
      else { this.showQuick(null); }
    }
    chat.insertBefore(row, loading || null);
  };

  Phone.prototype.showLoading = function (until) {
    var chat = this.q(".chat");
    var row = chat.querySelector(".row.loading");
    if (until && until > Date.now()) {
      if (!row) {
        row = el("div", "row bot loading");
        row.appendChild(el("div", "avatar", AVATAR));
        var b = el("div", "bubble tail dots");
        b.innerHTML = "<i></i><i></i><i></i>";
        row.appendChild(b);
        chat.appendChild(row);
        this.scrollDown();
      }
    } else if (row) {
      row.remove();
    }
  };

  Phone.prototype.scrollDown = function () {
    var chat = this.q(".chat");
    requestAnimationFrame(function () { chat.scrollTop = chat.scrollHeight; });
  };

  Phone.prototype.showQuick = function (items) {
    var self = this, box = this.q(".quick-replies");
    this.quick = items;
    box.innerHTML = "";
    box.hidden = !items || !items.length;
    (items || []).forEach(function (item) {
      var a = item.action || {};
      var chip = el("button", "chip");
      chip.type = "button";
      chip.setAttribute("data-label", a.label || "");
      if (item.imageUrl) { var i = el("img"); i.src = item.imageUrl; i.alt = ""; chip.appendChild(i); }
      chip.appendChild(document.createTextNode(a.label || a.text || ""));
      chip.addEventListener("click", function () { self.act(a); });
      box.appendChild(chip);
    });
    if (items && items.length) { this.scrollDown(); }
  };

  /* ---------------------------------------------------------------- rich menu */

  Phone.prototype.loadMenu = function () {
    var self = this, gen = this.generation;
    return api("GET", "/simulator/api/richmenu?user=" + encodeURIComponent(this.userId)).then(function (data) {
      if (gen !== self.generation) { return; }
      var m = data.richMenu;
      var changed = (m && m.richMenuId) !== self.menuId;
      self.menuId = m ? m.richMenuId : null;
      self.menu = m;
      if (changed) { self.drawMenu(m); }
    }).catch(function () { /* next poll */ });
  };

  Phone.prototype.drawMenu = function (m) {
    var self = this, box = this.q(".rm-image");
    box.innerHTML = "";
    box.classList.remove("closed");
    this.root.setAttribute("data-menu", m ? m.name : "");
    if (!m) { this.setMode("keyboard"); this.q(".to-menu").hidden = true; return; }
    this.q(".to-menu").hidden = false;
    this.q(".chatbar-text").textContent = m.chatBarText + " ▾";
    box.style.aspectRatio = m.size.width + " / " + m.size.height;
    var img = el("img");
    img.src = m.image;
    img.alt = m.chatBarText;
    box.appendChild(img);
    m.areas.forEach(function (area) {
      var b = area.bounds, a = area.action;
      var hit = el("button", "rm-area");
      hit.type = "button";
      hit.setAttribute("data-label", a.label || "");
      hit.setAttribute("aria-label", a.label || a.type);
      hit.style.left = (100 * b.x / m.size.width) + "%";
      hit.style.top = (100 * b.y / m.size.height) + "%";
      hit.style.width = (100 * b.width / m.size.width) + "%";
      hit.style.height = (100 * b.height / m.size.height) + "%";
      hit.addEventListener("click", function () { self.act(a); });
      box.appendChild(hit);
    });
    this.setMode(m.selected === false ? "keyboard" : "menu");
  };

  Phone.prototype.setMode = function (mode) {
    this.mode = mode;
    var hasMenu = !!this.menu;
    this.q(".richmenu").hidden = !(hasMenu && mode === "menu");
    this.q(".composer").hidden = hasMenu && mode === "menu";
    this.scrollDown();
  };

  /* ---------------------------------------------------------------- what the persona does */

  Phone.prototype.send = function (kind, body) {
    var self = this;
    body.type = kind;
    body.user = this.userId;
    this.showQuick(null);
    return api("POST", "/simulator/api/events", body).then(function (res) {
      return self.poll().then(function () { return res; });
    }).catch(function (err) { self.toast(err.message); });
  };

  Phone.prototype.sendTyped = function () {
    var input = this.q(".input");
    var text = input.value;
    if (!text.trim()) { return; }
    input.value = "";
    this.send("text", { text: text });
  };

  Phone.prototype.sendImage = function (file) {
    var self = this;
    if (!file) { return; }
    var reader = new FileReader();
    reader.onload = function () {
      var b64 = String(reader.result).split(",")[1] || "";
      self.send("image", { content: b64, content_type: file.type || "image/jpeg" });
    };
    reader.readAsDataURL(file);
  };

  /* Every LINE action a bubble, quick reply or rich menu area can carry. */
  Phone.prototype.act = function (a) {
    var self = this;
    switch (a.type) {
      case "postback":
        this.send("postback", { data: a.data, display_text: a.displayText || a.text || "" });
        if (a.inputOption === "openKeyboard") { this.setMode("keyboard"); if (a.fillInText) { this.q(".input").value = a.fillInText; } }
        if (a.inputOption === "openRichMenu") { this.setMode("menu"); }
        if (a.inputOption === "closeRichMenu") { this.q(".rm-image").classList.add("closed"); }
        return;
      case "message": this.send("text", { text: a.text || a.label }); return;
      case "uri": this.openUri(a.uri); return;
      case "datetimepicker": this.pickDate(a); return;
      case "richmenuswitch":
        this.send("postback", { data: a.data || "", switch_alias: a.richMenuAliasId }).then(function () { self.loadMenu(); });
        return;
      case "camera": case "cameraRoll": this.q(".file").click(); return;
      case "location": this.send("location", {}); return;
      case "clipboard":
        if (navigator.clipboard) { navigator.clipboard.writeText(a.clipboardText || "").catch(function () {}); }
        this.toast("コピーしました");
        return;
      default: this.toast("シミュレーターでは使えない操作です: " + a.type);
    }
  };

  Phone.prototype.openUri = function (uri) {
    var path = L.liffPath(uri);
    if (path) { this.openLiff(path); return; }
    if (/^tel:/.test(uri)) { this.toast("電話をかけます: " + uri.slice(4)); return; }
    if (/^https?:|^mailto:/.test(uri)) { window.open(uri, "_blank", "noopener"); return; }
    this.toast("シミュレーターでは開けないリンクです: " + uri);
  };

  Phone.prototype.idToken = function () {
    var self = this, cached = this.tokens[this.userId];
    if (cached && cached.until > Date.now()) { return Promise.resolve(cached.token); }
    return api("GET", "/simulator/api/id-token?user=" + encodeURIComponent(this.userId)).then(function (d) {
      self.tokens[self.userId] = { token: d.id_token, until: Date.now() + (d.expires_in - 300) * 1000 };
      return d.id_token;
    });
  };

  /* LIFF pages open over the chat, as LINE opens a "full" LIFF app, signed in as this persona. */
  Phone.prototype.openLiff = function (path) {
    var self = this, frame = this.q(".liff-frame");
    return this.idToken().then(function (token) {
      var p = self.persona();
      frame.setAttribute("data-sim-user", p.id);
      frame.setAttribute("data-sim-name", p.name);
      frame.setAttribute("data-id-token", token);
      self.token = token;
      self.q(".liff-title").textContent = "読み込み中…";
      self.q(".liff-sheet").hidden = false;
      self.root.classList.add("liff-open");
      frame.src = L.withParam(path, "id_token", token);
    }).catch(function (err) { self.toast(err.message); });
  };

  Phone.prototype.frameLoaded = function () {
    var self = this, frame = this.q(".liff-frame");
    if (this.q(".liff-sheet").hidden || !this.token) { return; }
    if (!L.adopt(frame, this.persona(), this.token, function () { return self.scan(); })) { return; }
    var bar = this.q(".liff-title");
    function show() { bar.textContent = frame.contentDocument.title || "まちウォレット"; }
    try {
      show();
      // LINE's LIFF header follows document.title: the page sets its English title once it knows the reader.
      var title = frame.contentDocument.querySelector("title");
      if (title) { new MutationObserver(show).observe(title, { childList: true, characterData: true, subtree: true }); }
    } catch (e) { bar.textContent = "まちウォレット"; }
  };

  Phone.prototype.closeLiff = function () {
    var frame = this.q(".liff-frame");
    this.q(".liff-sheet").hidden = true;
    this.q(".picker-sheet").hidden = true;
    this.root.classList.remove("liff-open");
    if (frame.getAttribute("src")) { frame.removeAttribute("src"); frame.src = "about:blank"; }
    this.token = null;
  };

  Phone.prototype.liffOpen = function () { return !this.q(".liff-sheet").hidden; };

  /* What this phone (or card) offers to another phone's scanner right now. */
  Phone.prototype.showing = function () {
    var p = this.persona();
    if (this.isCard()) { return Promise.resolve({ value: p.card.number, label: p.name + "さんのカード（手に持っている）" }); }
    if (!this.liffOpen()) { return Promise.resolve(null); }
    return L.askShowing(this.q(".liff-frame")).then(function (r) {
      return r ? { value: r.value, label: p.name + "の画面: " + (r.label || describe(r.value)) } : null;
    });
  };

  /* The LIFF scanner: pick what the camera would see. Resolves with the text, rejects on cancel. */
  Phone.prototype.scan = function () {
    var self = this, sheet = this.q(".picker-sheet");
    return new Promise(function (resolve, reject) {
      var done = false, timer = null;
      function finish(value) {
        if (done) { return; }
        done = true;
        clearInterval(timer);
        sheet.hidden = true;
        if (value == null) { reject(new Error("scan cancelled")); } else { resolve(value); }
      }
      sheet.innerHTML = "";
      var head = el("div", "picker-head");
      head.appendChild(el("b", null, "QRコードリーダー"));
      var cancel = el("button", "picker-cancel", "キャンセル");
      cancel.type = "button";
      cancel.addEventListener("click", function () { finish(null); });
      head.appendChild(cancel);
      sheet.appendChild(head);
      sheet.appendChild(el("div", "viewfinder")).appendChild(el("span", null, "読み取るものを選んでください"));
      var live = el("div", "picker-group live");
      sheet.appendChild(live);
      function option(c, group) {
        var b = el("button", "scan-choice");
        b.type = "button";
        b.setAttribute("data-value", c.value);
        b.appendChild(el("span", "choice-label", c.label));
        b.appendChild(el("span", "choice-hint", c.hint || describe(c.value)));
        b.addEventListener("click", function () { finish(c.value); });
        group.appendChild(b);
      }
      function refreshLive() {
        var others = state.phones.filter(function (p) { return p !== self; });
        Promise.all(others.map(function (p) { return p.showing(); })).then(function (found) {
          live.innerHTML = "";
          live.appendChild(el("div", "picker-title", "ほかの画面に出ているQR"));
          var any = false;
          found.forEach(function (f) { if (f) { any = true; option(f, live); } });
          if (!any) { live.appendChild(el("p", "picker-empty", "いまは、ほかのスマホにQRコードが出ていません。")); }
        });
      }
      refreshLive();
      timer = setInterval(function () { if (!done) { refreshLive(); } }, 1500);
      loadChoices().then(function (choices) {
        [["カード（スマホなしの方）", choices.cards], ["お店のポスター", choices.shops], ["イベント受付", choices.events]]
          .forEach(function (g) {
            if (!g[1] || !g[1].length) { return; }
            var group = el("div", "picker-group");
            group.appendChild(el("div", "picker-title", g[0]));
            g[1].forEach(function (c) { option(c, group); });
            sheet.appendChild(group);
          });
        var typed = el("div", "picker-group typed");
        typed.appendChild(el("div", "picker-title", "文字で入力"));
        var input = el("input");
        input.placeholder = "QRコードの中身";
        var go = el("button", null, "読み取る");
        go.type = "button";
        go.addEventListener("click", function () { if (input.value.trim()) { finish(input.value.trim()); } });
        typed.appendChild(input);
        typed.appendChild(go);
        sheet.appendChild(typed);
      });
      sheet.hidden = false;
    });
  };

  /* The datetime picker: LINE's native picker, then a postback with params.date / time / datetime. */
  Phone.prototype.pickDate = function (a) {
    var self = this, sheet = this.q(".date-sheet");
    var mode = a.mode || "date";
    var input = el("input", "date-input");
    input.type = mode === "datetime" ? "datetime-local" : mode;
    if (a.initial) { input.value = a.initial; }
    if (a.min) { input.min = a.min; }
    if (a.max) { input.max = a.max; }
    sheet.innerHTML = "";
    var box = el("div", "date-box");
    box.appendChild(el("div", "date-title", a.label || "日付を選択"));
    box.appendChild(input);
    var row = el("div", "date-actions");
    var cancel = el("button", "date-cancel", "キャンセル");
    var ok = el("button", "date-ok", "完了");
    cancel.type = ok.type = "button";
    cancel.addEventListener("click", function () { sheet.hidden = true; });
    ok.addEventListener("click", function () {
      if (!input.value) { input.focus(); return; }
      sheet.hidden = true;
      var params = {};
      params[mode] = input.value;
      self.send("postback", { data: a.data, params: params });
    });
    row.appendChild(cancel);
    row.appendChild(ok);
    box.appendChild(row);
    sheet.appendChild(box);
    sheet.hidden = false;
    input.focus();
  };

  Phone.prototype.toast = function (text) {
    var t = this.q(".toast");
    t.textContent = text;
    t.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(function () { t.hidden = true; }, 3500);
  };

  /* ================================================================ the page */

  function loadChoices() {
    if (!state.choices) {
      state.choices = api("GET", "/simulator/api/scan-choices").then(function (choices) {
        state.shopNames = {};
        choices.shops.forEach(function (c) { state.shopNames[c.value] = c.label.replace(/（ポスター）$/, ""); });
        return choices;
      }).catch(function () {
        state.choices = null;
        return { cards: [], shops: [], events: [] };
      });
    }
    return state.choices;
  }

  function loadPersonas() {
    return api("GET", "/simulator/api/personas").then(function (data) {
      state.personas = data.personas;
      state.byId = {};
      data.personas.forEach(function (p) { state.byId[p.id] = p; });
      state.defaults = { left: data.left, right: data.right };
      state.phones.forEach(function (ph) { ph.fillSelect(); });
    });
  }

  function addPhone(userId) {
    var names = ["left", "right", "third", "fourth"];
    var name = names.find(function (n) { return !state.phones.some(function (p) { return p.slotName === n; }); });
    if (!name) { return null; }
    var phone = new Phone(name, userId);
    state.phones.push(phone);
    document.body.setAttribute("data-phones", String(state.phones.length));
    return phone;
  }

  function removePhone(phone) {
    if (state.phones.length <= 1) { return; }
    phone.root.remove();
    state.phones = state.phones.filter(function (p) { return p !== phone; });
    document.body.setAttribute("data-phones", String(state.phones.length));
    saveUrl();
  }

  function saveUrl() {
    var q = new URLSearchParams();
    state.phones.forEach(function (p) { q.set(p.slotName, p.userId); });
    history.replaceState(null, "", location.pathname + "?" + q.toString());
  }

  function banner(id, cls, build) {
    var host = document.getElementById("banners");
    var old = document.getElementById(id);
    if (!build) { if (old) { old.remove(); } return; }
    var div = el("div", "banner " + cls);
    div.id = id;
    build(div);
    if (old) { host.replaceChild(div, old); } else { host.appendChild(div); }
  }

  function pollViolations() {
    return api("GET", "/simulator/api/violations?after=" + state.violationsShown).then(function (data) {
      state.violationsSeen = data.total;
      if (!data.violations.length) { return; }
      banner("violation-banner", "bad", function (div) {
        div.setAttribute("role", "alert");
        div.appendChild(el("b", null, "LINE が受け付けない送信が " + (data.total - state.violationsShown) + " 件あります（OpenAPI 仕様違反・400 で拒否）"));
        var list = el("ul");
        data.violations.slice(-3).forEach(function (v) {
          var li = el("li", null, v.method + " " + v.path + " — ");
          li.appendChild(el("code", null, v.errors.slice(0, 4).join(" / ")));
          list.appendChild(li);
        });
        div.appendChild(list);
        var close = el("button", null, "確認した");
        close.type = "button";
        close.addEventListener("click", function () { state.violationsShown = data.total; banner("violation-banner"); });
        div.appendChild(close);
      });
    }).catch(function () { /* next time */ });
  }

  function showStatus() {
    return api("GET", "/simulator/api/status").then(function (s) {
      state.status = s;
      var notes = s.problems.slice();
      if (!s.callback) { notes.push("ボット（POST /callback）がまだ組み込まれていません。メッセージは送れますが、返事はありません。"); }
      banner("status-banner", "warn", notes.length ? function (div) {
        notes.forEach(function (n) { div.appendChild(el("div", null, n)); });
      } : null);
    }).catch(function () { /* the page still works */ });
  }

  function pollLog() {
    var list = document.getElementById("log-list");
    if (document.getElementById("log").hidden) { return; }
    api("GET", "/simulator/api/requests?after=" + state.logAfter).then(function (data) {
      data.requests.forEach(function (r) {
        var li = el("li", (r.status || 0) >= 400 ? "bad" : "");
        li.appendChild(el("span", "t", hhmm(r.at)));
        li.appendChild(el("span", "m", r.method));
        li.appendChild(el("span", "p", r.path));
        li.appendChild(el("span", "s", String(r.status || "…")));
        list.appendChild(li);
        state.logAfter = r.index + 1;
      });
      list.scrollTop = list.scrollHeight;
    }).catch(function () {});
  }

  function start() {
    var q = new URLSearchParams(location.search);
    L.setPhoneLookup(function (win) {
      return state.phones.find(function (p) { return p.q(".liff-frame").contentWindow === win; }) || null;
    });
    document.getElementById("add-phone").addEventListener("click", function () {
      var used = state.phones.map(function (p) { return p.userId; });
      var next = state.personas.find(function (p) { return p.known && used.indexOf(p.id) < 0; });
      if (addPhone(next ? next.id : state.defaults.left)) { saveUrl(); }
    });
    document.getElementById("toggle-log").addEventListener("click", function () {
      var log = document.getElementById("log");
      log.hidden = !log.hidden;
      pollLog();
    });
    document.getElementById("close-log").addEventListener("click", function () { document.getElementById("log").hidden = true; });
    loadPersonas().then(function () {
      addPhone(q.get("left") || document.body.getAttribute("data-left"));
      addPhone(q.get("right") || document.body.getAttribute("data-right"));
      ["third", "fourth"].forEach(function (n) { if (q.get(n)) { addPhone(q.get(n)); } });
      document.body.setAttribute("data-ready", "1");
      setInterval(function () { state.phones.forEach(function (p) { p.poll(); }); }, POLL_MS);
      setInterval(function () { pollViolations(); pollLog(); }, 2000);
      setInterval(function () {
        loadPersonas().then(function () {
          state.phones.forEach(function (p) { p.refreshNote(); if (p.isOffice()) { p.loadOffice(); } });
        });
      }, 4000);
      showStatus();
      pollViolations();
      loadChoices();
    });
    setInterval(function () {
      var d = new Date();
      document.querySelectorAll(".status-bar .clock").forEach(function (c) { c.textContent = d.getHours() + ":" + ("0" + d.getMinutes()).slice(-2); });
    }, 1000);
  }

  Phone.prototype.refreshNote = function () {
    var p = this.persona();
    if (p.role === "card") { return; }
    if (p.role === "staff") { this.q(".persona-note").textContent = "役場の職員・窓口の端末"; return; }
    this.q(".persona-note").textContent = p.registered ? "登録済み" + (p.shops.length ? "・お店の方" : "")
      : (p.shops.length ? p.shops.map(function (s) { return s.name; }).join("・") : "未登録");
  };

  window.Sim = { state: state, api: api, addPhone: addPhone };
  document.addEventListener("DOMContentLoaded", start);
})();
