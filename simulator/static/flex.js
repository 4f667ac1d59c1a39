/*
 * LINE messages drawn as the LINE app draws them, close enough to judge their design:
 * Flex bubbles and carousels (box, text, span, button, image, icon, separator, filler), templates
 * (buttons, confirm, carousel, image carousel), text, images, stickers, locations, imagemaps.
 * Sizes follow LINE's own scale (text md = 16px, xl = 22px, 3xl = 35px; bubble mega = 300px).
 * Taps call ctx.act(action); nothing here talks to the server. Plain ES2017, no build step.
 */
(function () {
  "use strict";

  var TEXT = { xxs: 11, xs: 13, sm: 14, md: 16, lg: 19, xl: 22, xxl: 29, "3xl": 35, "4xl": 48, "5xl": 74 };
  var SPACE = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };
  var IMAGE = { xxs: 40, xs: 60, sm: 80, md: 100, lg: 120, xl: 140, xxl: 160, "3xl": 180, "4xl": 200, "5xl": 240 };
  var BUBBLE = { nano: 120, micro: 160, deca: 220, hecto: 241, kilo: 260, mega: 300, giga: 386 };
  var BORDER = { none: 0, light: 0.5, normal: 1, medium: 2, "semi-bold": 3, bold: 4 };
  var BLOCK_PADDING = { header: 20, hero: 0, body: 20, footer: 10 };
  var STICKERS = ["😊", "👍", "🙇", "🎉", "😆", "🙏", "💐", "😢"];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text != null) { e.textContent = text; }
    return e;
  }

  /* "md" → "8px" through a table, "12px"/"30%" kept, numbers are pixels. */
  function size(v, table) {
    if (v == null || v === "") { return null; }
    if (typeof v === "number") { return v + "px"; }
    if (table && Object.prototype.hasOwnProperty.call(table, v)) { return table[v] + "px"; }
    return String(v);
  }

  function clickable(node, action, ctx) {
    if (!action) { return node; }
    node.classList.add("fx-tap");
    node.setAttribute("role", "button");
    node.setAttribute("tabindex", "0");
    if (action.label) { node.setAttribute("data-label", action.label); }
    node.addEventListener("click", function (ev) { ev.stopPropagation(); ctx.act(action); });
    return node;
  }

  /* LINE's flex: horizontal children share the width (flex 1), vertical ones take their height (flex 0). */
  function applyFlex(node, c, parentLayout) {
    var dflt = parentLayout === "vertical" ? 0 : 1;
    var f = c.flex == null ? dflt : Number(c.flex);
    node.style.flex = f > 0 ? f + " 1 0%" : "0 0 auto";
    if (parentLayout !== "vertical") { node.style.minWidth = "0"; }
  }

  function applyOffsets(node, c) {
    if (c.position === "absolute") { node.style.position = "absolute"; }
    ["Top", "Bottom", "Start", "End"].forEach(function (side) {
      var v = size(c["offset" + side], SPACE);
      if (v == null) { return; }
      var css = side === "Start" ? "left" : side === "End" ? "right" : side.toLowerCase();
      if (c.position !== "absolute") { node.style.position = "relative"; }
      node.style[css] = v;
    });
  }

  function gravity(node, c) {
    var g = { top: "flex-start", center: "center", bottom: "flex-end" }[c.gravity];
    if (g) { node.style.alignSelf = g; }
  }

  function component(c, parentLayout, ctx) {
    var node;
    switch (c.type) {
      case "box": node = box(c, ctx); break;
      case "text": node = text(c, ctx); break;
      case "button": node = button(c, ctx); break;
      case "image": node = image(c, ctx); break;
      case "video": node = c.altContent ? component(c.altContent, parentLayout, ctx) : el("div", "fx-unknown", "▶"); break;
      case "icon": node = icon(c); break;
      case "separator": node = separator(c, parentLayout); break;
      case "filler": node = el("div", "fx-filler"); node.style.flex = (c.flex == null ? 1 : c.flex) + " 1 0%"; return node;
      case "spacer": node = el("div", "fx-spacer"); node.style.height = size(c.size || "md", SPACE); return node;
      default: node = el("div", "fx-unknown", "［" + c.type + "］");
    }
    if (c.type !== "separator") { applyFlex(node, c, parentLayout); }
    applyOffsets(node, c);
    return node;
  }

  function box(c, ctx) {
    var node = el("div", "fx-box fx-" + (c.layout || "vertical"));
    var s = node.style;
    s.display = "flex";
    s.flexDirection = c.layout === "vertical" ? "column" : "row";
    if (c.layout === "baseline") { s.alignItems = "baseline"; }
    if (c.backgroundColor) { s.backgroundColor = c.backgroundColor; }
    if (c.background && c.background.type === "linearGradient") {
      s.backgroundImage = "linear-gradient(" + (c.background.angle || "0deg") + ", " + c.background.startColor +
        (c.background.centerColor ? ", " + c.background.centerColor + " " + (c.background.centerPosition || "50%") : "") +
        ", " + c.background.endColor + ")";
    }
    if (c.borderWidth) { s.border = size(c.borderWidth, BORDER) + " solid " + (c.borderColor || "#000"); }
    if (c.cornerRadius) { s.borderRadius = size(c.cornerRadius, SPACE); s.overflow = "hidden"; }
    ["width", "maxWidth", "height", "maxHeight"].forEach(function (k) { if (c[k]) { s[k] = size(c[k]); } });
    if (c.paddingAll != null) { s.padding = size(c.paddingAll, SPACE); }
    ["Top", "Bottom", "Start", "End"].forEach(function (side) {
      var v = size(c["padding" + side], SPACE);
      if (v != null) { s["padding" + (side === "Start" ? "Left" : side === "End" ? "Right" : side)] = v; }
    });
    if (c.justifyContent) { s.justifyContent = c.justifyContent; }
    if (c.alignItems) { s.alignItems = c.alignItems; }
    var gap = size(c.spacing, SPACE);
    (c.contents || []).forEach(function (child, i) {
      var node2 = component(child, c.layout || "vertical", ctx);
      var margin = child.margin != null ? size(child.margin, SPACE) : (i > 0 ? gap : null);
      if (margin != null && child.position !== "absolute") {
        node2.style[c.layout === "vertical" ? "marginTop" : "marginLeft"] = margin;
      }
      node.appendChild(node2);
    });
    if (c.position !== "absolute") { s.position = s.position || "relative"; }
    return clickable(node, c.action, ctx);
  }

  function textStyle(node, c) {
    var s = node.style;
    var px = TEXT[c.size] || (typeof c.size === "string" && /px$/.test(c.size) ? parseFloat(c.size) : TEXT.md);
    s.fontSize = px + "px";
    if (c.weight === "bold") { s.fontWeight = "700"; }
    if (c.color) { s.color = c.color; }
    if (c.style === "italic") { s.fontStyle = "italic"; }
    if (c.decoration && c.decoration !== "none") { s.textDecoration = c.decoration === "line-through" ? "line-through" : "underline"; }
    return px;
  }

  function text(c, ctx) {
    var node = el("div", "fx-text");
    var px = textStyle(node, c);
    var s = node.style;
    s.textAlign = { start: "left", end: "right", center: "center" }[c.align] || "left";
    if (c.lineSpacing) { s.lineHeight = (px + parseFloat(size(c.lineSpacing, SPACE))) + "px"; }
    if (c.wrap) {
      s.whiteSpace = "pre-wrap";
      s.overflowWrap = "anywhere";
      if (c.maxLines) { s.display = "-webkit-box"; s.webkitLineClamp = String(c.maxLines); s.webkitBoxOrient = "vertical"; s.overflow = "hidden"; }
    } else {
      s.whiteSpace = "nowrap"; s.overflow = "hidden"; s.textOverflow = "ellipsis";
    }
    if (c.contents && c.contents.length) {
      c.contents.forEach(function (span) {
        var sp = el("span", "fx-span", span.text || "");
        textStyle(sp, span);
        if (!span.size) { sp.style.fontSize = ""; }
        node.appendChild(sp);
      });
    } else {
      node.textContent = c.text == null ? "" : c.text;
    }
    gravity(node, c);
    return clickable(node, c.action, ctx);
  }

  function button(c, ctx) {
    var style = c.style || "link";
    var node = el("button", "fx-button fx-button-" + style, (c.action && c.action.label) || "");
    node.type = "button";
    node.style.height = c.height === "sm" ? "40px" : "52px";
    if (style === "primary") { node.style.background = c.color || "#17c950"; node.style.color = "#fff"; }
    else if (style === "secondary") { node.style.background = c.color || "#dcdfe5"; node.style.color = "#111"; }
    else { node.style.color = c.color || "#42659a"; }
    gravity(node, c);
    if (c.action) {
      node.setAttribute("data-label", c.action.label || "");
      node.addEventListener("click", function (ev) { ev.stopPropagation(); ctx.act(c.action); });
    }
    return node;
  }

  function ratio(r, dflt) {
    var m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(r || dflt || "1:1");
    return m ? m[1] + " / " + m[2] : "1 / 1";
  }

  function image(c, ctx) {
    var wrap = el("div", "fx-image");
    var w = c.size === "full" ? "100%" : size(c.size || "md", IMAGE);
    wrap.style.width = w;
    wrap.style.maxWidth = "100%";
    wrap.style.alignSelf = { start: "flex-start", end: "flex-end" }[c.align] || "center";
    wrap.style.aspectRatio = ratio(c.aspectRatio, "1:1");
    if (c.backgroundColor) { wrap.style.backgroundColor = c.backgroundColor; }
    var img = el("img");
    img.src = c.url;
    img.alt = "";
    img.style.objectFit = c.aspectMode === "cover" ? "cover" : "contain";
    wrap.appendChild(img);
    gravity(wrap, c);
    return clickable(wrap, c.action, ctx);
  }

  function icon(c) {
    var img = el("img", "fx-icon");
    var px = TEXT[c.size] || TEXT.md;
    img.src = c.url;
    img.alt = "";
    img.style.height = px + "px";
    img.style.aspectRatio = ratio(c.aspectRatio, "1:1");
    return img;
  }

  function separator(c, parentLayout) {
    var node = el("div", "fx-separator");
    var line = "1px solid " + (c.color || "#d4d6da");
    if (parentLayout === "vertical") { node.style.borderTop = line; node.style.flex = "0 0 auto"; }
    else { node.style.borderLeft = line; node.style.flex = "0 0 auto"; node.style.alignSelf = "stretch"; }
    return node;
  }

  function bubble(b, ctx) {
    var node = el("div", "fx-bubble");
    node.style.width = (BUBBLE[b.size] || BUBBLE.mega) + "px";
    if (b.direction === "rtl") { node.dir = "rtl"; }
    var styles = b.styles || {};
    var blocks = ["header", "hero", "body", "footer"].filter(function (k) { return b[k]; });
    blocks.forEach(function (name, i) {
      var part = b[name];
      var st = styles[name] || {};
      if (i > 0 && st.separator) {
        var sep = el("div", "fx-block-separator");
        sep.style.borderTop = "1px solid " + (st.separatorColor || "#d4d6da");
        node.appendChild(sep);
      }
      var block = part.type === "box" ? box(part, ctx) : component(part, "vertical", ctx);
      block.classList.add("fx-block", "fx-" + name);
      var pad = BLOCK_PADDING[name];
      if (part.type === "box" && part.paddingAll == null && !block.style.padding) { block.style.padding = pad + "px"; }
      if (st.backgroundColor) { block.style.backgroundColor = st.backgroundColor; }
      if (name === "hero" && part.type !== "box") { block.style.width = "100%"; }
      block.style.flex = name === "body" ? "1 0 auto" : "0 0 auto";
      node.appendChild(block);
    });
    return clickable(node, b.action, ctx);
  }

  function flex(contents, ctx) {
    if (contents.type === "carousel") {
      var row = el("div", "fx-carousel");
      (contents.contents || []).forEach(function (b) { row.appendChild(bubble(b, ctx)); });
      return row;
    }
    return bubble(contents, ctx);
  }

  /* --------------------------------------------------------------- templates */

  function actionRows(actions, ctx) {
    var list = el("div", "tp-actions");
    (actions || []).forEach(function (a) {
      var b = el("button", "tp-action", a.label || "");
      b.type = "button";
      b.setAttribute("data-label", a.label || "");
      b.addEventListener("click", function () { ctx.act(a); });
      list.appendChild(b);
    });
    return list;
  }

  function buttonsCard(t, ctx) {
    var card = el("div", "tp-card");
    if (t.thumbnailImageUrl) {
      var img = el("div", "tp-thumb");
      img.style.backgroundImage = "url('" + t.thumbnailImageUrl + "')";
      img.style.aspectRatio = t.imageAspectRatio === "square" ? "1 / 1" : "1.51 / 1";
      img.style.backgroundSize = t.imageSize === "contain" ? "contain" : "cover";
      img.style.backgroundColor = t.imageBackgroundColor || "#fff";
      card.appendChild(img);
    }
    var body = el("div", "tp-body");
    if (t.title) { body.appendChild(el("div", "tp-title", t.title)); }
    body.appendChild(el("div", "tp-text", t.text || ""));
    card.appendChild(clickable(body, t.defaultAction, ctx));
    card.appendChild(actionRows(t.actions, ctx));
    return card;
  }

  function template(m, ctx) {
    var t = m.template || {};
    if (t.type === "confirm") {
      var card = el("div", "tp-card tp-confirm");
      card.appendChild(el("div", "tp-text center", t.text || ""));
      var row = actionRows(t.actions, ctx);
      row.classList.add("tp-row");
      card.appendChild(row);
      return card;
    }
    if (t.type === "carousel" || t.type === "image_carousel") {
      var strip = el("div", "fx-carousel");
      (t.columns || []).forEach(function (col) {
        if (t.type === "carousel") { strip.appendChild(buttonsCard(col, ctx)); return; }
        var c = el("div", "tp-image-column");
        c.style.backgroundImage = "url('" + col.imageUrl + "')";
        c.appendChild(el("div", "tp-image-label", (col.action && col.action.label) || ""));
        strip.appendChild(clickable(c, col.action, ctx));
      });
      return strip;
    }
    return buttonsCard(t, ctx);
  }

  /* --------------------------------------------------------------- messages */

  function linkify(node, s) {
    var re = /(https?:\/\/[^\s]+)/g, last = 0, m;
    while ((m = re.exec(s))) {
      node.appendChild(document.createTextNode(s.slice(last, m.index)));
      var a = el("a", "msg-link", m[1]);
      a.href = m[1];
      a.target = "_blank";
      a.rel = "noopener";
      node.appendChild(a);
      last = m.index + m[1].length;
    }
    node.appendChild(document.createTextNode(s.slice(last)));
  }

  function substitute(m) {
    return String(m.text || "").replace(/\{([A-Za-z0-9_]+)\}/g, function (all, key) {
      var sub = (m.substitution || {})[key];
      if (!sub) { return all; }
      if (sub.type === "mention") { return "@" + ((sub.mentionee && sub.mentionee.userId) ? "ユーザー" : "All"); }
      return "😀";
    });
  }

  function imagemap(m, ctx) {
    var wrap = el("div", "msg-imagemap");
    var base = m.baseSize || { width: 1040, height: 1040 };
    wrap.style.aspectRatio = base.width + " / " + base.height;
    var img = el("img");
    img.src = m.baseUrl + "/1040";
    img.alt = m.altText || "";
    wrap.appendChild(img);
    (m.actions || []).forEach(function (a) {
      var area = el("div", "msg-imagemap-area");
      var b = a.area;
      area.style.left = (100 * b.x / base.width) + "%";
      area.style.top = (100 * b.y / base.height) + "%";
      area.style.width = (100 * b.width / base.width) + "%";
      area.style.height = (100 * b.height / base.height) + "%";
      var action = a.type === "uri" ? { type: "uri", uri: a.linkUri, label: a.label } : { type: "message", text: a.text, label: a.label };
      wrap.appendChild(clickable(area, action, ctx));
    });
    return wrap;
  }

  /* One message as it appears in the chat: {node, plain} — plain messages get a speech bubble. */
  function render(m, ctx) {
    switch (m.type) {
      case "text":
      case "textV2": {
        var t = el("div", "msg-text");
        linkify(t, m.type === "textV2" ? substitute(m) : String(m.text || ""));
        return { node: t, plain: true };
      }
      case "sticker":
        return { node: el("div", "msg-sticker", STICKERS[Number(m.stickerId || 0) % STICKERS.length]), plain: false };
      case "image": {
        var img = el("img", "msg-image");
        img.src = m.previewImageUrl || m.originalContentUrl;
        img.alt = "画像";
        return { node: img, plain: false };
      }
      case "video": return { node: el("div", "msg-media", "▶ 動画"), plain: true };
      case "audio": return { node: el("div", "msg-media", "🔊 音声メッセージ"), plain: true };
      case "location": {
        var loc = el("div", "msg-location");
        loc.appendChild(el("div", "msg-location-map", "📍"));
        loc.appendChild(el("div", "msg-location-title", m.title || "位置情報"));
        loc.appendChild(el("div", "msg-location-address", m.address || ""));
        return { node: loc, plain: false };
      }
      case "imagemap": return { node: imagemap(m, ctx), plain: false };
      case "template": return { node: template(m, ctx), plain: false };
      case "flex": return { node: flex(m.contents || {}, ctx), plain: false };
      default: return { node: el("div", "msg-text", "（このメッセージはシミュレーターでは表示できません: " + m.type + "）"), plain: true };
    }
  }

  window.SimFlex = { render: render, flex: flex, bubble: bubble, el: el };
})();
