/* History: newest first, 20 at a time, with money in (+) and out (−) told apart by sign and colour. */
(function () {
  "use strict";
  var M = window.Machi, t = M.t;
  var before = null;

  function fail(err) {
    M.$("#error-box").innerHTML = M.errorHtml(err);
    M.$("#error-back").onclick = function () { location.href = "/liff/pay"; };
    M.show("s-error");
  }

  function load() {
    M.api("GET", "/api/history" + (before ? "?before=" + before : "")).then(function (res) {
      var list = M.$("#items");
      if (!before && !res.items.length) {
        list.innerHTML = '<li class="muted">' + t("まだ履歴はありません。", "Nothing yet.") + "</li>";
      }
      res.items.forEach(function (it) {
        var li = document.createElement("li");
        li.innerHTML = '<div class="sub">' + M.esc(it.at_label) + M.sep() + M.esc(it.kind_label) + "</div>" +
          '<div class="line"><span class="name">' + M.esc(it.title) + "</span>" +
          '<span class="value ' + (it.amount > 0 ? "plus" : it.amount < 0 ? "minus" : "") + '">' +
          M.esc(it.value_label) + "</span></div>" +
          (it.money_types.length && it.title !== M.join(it.money_types) ? '<div class="sub">' + M.esc(M.join(it.money_types)) + "</div>" : "") +
          (it.refunded ? '<span class="badge">' + t("返金済み", "Refunded") + "</span>" : "");
        list.appendChild(li);
      });
      before = res.next_before;
      M.$("#more").classList.toggle("hidden", !before);
      M.show("s-list");
    }).catch(fail);
  }

  document.addEventListener("DOMContentLoaded", function () {
    M.$("#more").addEventListener("click", load);
    M.start().then(function (me) {
      if (!me) { return; }
      if (M.notUsable(me)) { return fail(M.notUsable(me)); }
      load();
    }).catch(fail);
  });
})();
