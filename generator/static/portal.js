/* A sponsor's private page: the signed token from the link's fragment, the portal API's numbers and requests, and
   the request forms. The token never goes to a server in a URL: it is kept for this tab (sessionStorage), dropped
   from the address bar, and sent only as the x-portal-token header. Tables and CSS bars, no library. */
(function () {
  "use strict";
  var main = document.getElementById("portal");
  if (!main || !window.fetch || !window.JSON) return;
  var api = main.dataset.api, KEY = "portal-token";
  var KINDS = { nominate: "推荐支持单位", initiator: "推荐发起单位", sublink: "子链接", placement: "投放报告",
    prize: "奖品", contact: "联系人" };
  var STATUS = { pending: "待审核", approved: "已通过", rejected: "未通过" };
  var UNIT = { media: "媒体", enterprise: "企业", local: "仅限本省", national: "全国" };
  var TYPES = ["image/png", "image/jpeg", "image/webp"], MAX_BYTES = 5242880;
  var token = takeToken(), me = null, shown = true, title = document.title;

  // A new link pasted into this tab changes only the fragment, which loads nothing: start again with its token.
  window.addEventListener("hashchange", function () { if (location.hash.length > 1 && takeToken()) location.reload(); });
  if (!token) { refuse("missing"); return; }
  load();
  [].forEach.call(main.querySelectorAll("form[data-kind]"), function (form) {
    form.addEventListener("submit", function (e) { e.preventDefault(); send(form); });
  });

  /* ---- the token ---- */
  function takeToken() {
    var fromLink = location.hash.replace(/^#/, ""), kept = null;
    try { fromLink = decodeURIComponent(fromLink).trim(); } catch (e) { /* a mangled link: the server refuses it */ }
    try {
      if (fromLink) sessionStorage.setItem(KEY, fromLink);
      kept = sessionStorage.getItem(KEY);
    } catch (e) { /* storage off: this load only */ }
    // Out of the address bar, so it is not copied with a screenshot or a shared URL, nor kept in history.
    if (fromLink && window.history && history.replaceState) history.replaceState(null, "", location.pathname + location.search);
    return fromLink || kept;
  }
  function refuse(why) {
    if (why !== "failed") { try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ } }
    var gate = document.getElementById("gate"), text = document.getElementById("gate-why");
    text.textContent = text.getAttribute("data-" + why);
    document.getElementById("loading").hidden = true;
    document.getElementById("content").hidden = true;
    gate.hidden = false;
    gate.focus();
  }

  /* ---- the API ---- */
  function call(method, path, body) {
    var init = { method: method, cache: "no-store", credentials: "same-origin", headers: { "x-portal-token": token } };
    if (body !== undefined) { init.headers["content-type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(api + path, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.status === 403) { refuse("forbidden"); throw { handled: true }; }
        return { status: r.status, ok: r.ok, data: data };
      });
    });
  }
  function load() {
    // The numbers are the slower answer and the page is useful without them: their failure is only noted.
    var numbers = call("GET", "numbers").catch(function (e) { if (e && e.handled) throw e; return { ok: false }; });
    return Promise.all([call("GET", "me"), numbers]).then(function (answers) {
      if (!answers[0].ok) throw new Error(answers[0].status);
      me = answers[0].data;
      showMe(me);
      if (answers[1].ok) showNumbers(answers[1].data);
      else text("n-updated", "样本数据暂时无法读取，请稍后刷新。");
      document.getElementById("loading").hidden = true;
      document.getElementById("content").hidden = false;
    }).catch(function (e) { if (!e || !e.handled) refuse("failed"); });
  }
  function reloadMe() {
    return call("GET", "me").then(function (r) { if (r.ok) { me = r.data; showMe(me); } }).catch(function () {});
  }

  /* ---- small helpers ---- */
  function $(id) { return document.getElementById(id); }
  function text(id, t) { var el = $(id); if (el) el.textContent = t; }
  function n(x) { return Number(x).toLocaleString("zh-CN"); }
  function v(x) { return x === undefined || x === null ? "待公布" : n(x); }
  function md(day) { return +day.slice(5, 7) + "月" + +day.slice(8, 10) + "日"; }
  function beijing(iso) { // "7月10日 14:05" in Beijing time
    var d = new Date(Date.parse(iso) + 8 * 3600000);
    if (isNaN(d)) return "";
    function two(x) { return (x < 10 ? "0" : "") + x; }
    return (d.getUTCMonth() + 1) + "月" + d.getUTCDate() + "日 " + two(d.getUTCHours()) + ":" + two(d.getUTCMinutes());
  }
  function deadline(iso) { // the instant a deadline passes, as the notice says it: "7月10日24时"
    var d = new Date(Date.parse(iso) + 8 * 3600000);
    if (d.getUTCHours() === 0 && d.getUTCMinutes() === 0) {
      var last = new Date(d.getTime() - 1);
      return (last.getUTCMonth() + 1) + "月" + last.getUTCDate() + "日24时";
    }
    return beijing(iso);
  }
  function el(tag, content, cls) {
    var e = document.createElement(tag);
    if (content && content.nodeType) e.appendChild(content); else if (content !== undefined) e.textContent = content;
    if (cls) e.className = cls;
    return e;
  }
  function bar(value, max, cls) { // none for zero, at least a sliver for anything else
    var b = el("span", undefined, cls);
    b.style.width = Math.max(1, 100 * value / max) + "%";
    return b;
  }
  function bars(received, valid, max) {
    var box = document.createDocumentFragment();
    if (received > 0 && max > 0) box.appendChild(bar(received, max, "bar"));
    if (valid > 0 && max > 0) box.appendChild(bar(valid, max, "bar v"));
    return box;
  }
  // rows: [[cell, ...]]; a cell is text, a node, or {v: ..., cls: ...}. Valid columns go where the API hides them.
  function fill(id, rows) {
    var table = $(id), body = table.tBodies[0];
    body.textContent = "";
    rows.forEach(function (cells) {
      var tr = document.createElement("tr");
      cells.forEach(function (c) {
        if (c === null) return; // a hidden column
        var cell = c && c.cls !== undefined ? el("td", c.v, c.cls) : el("td", c);
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
    if (!rows.length) {
      var tr = document.createElement("tr"), td = el("td", "暂无数据");
      td.colSpan = 4;
      tr.appendChild(td);
      body.appendChild(tr);
    }
    // The valid column's heading follows the policy.
    [].forEach.call(table.querySelectorAll("thead th"), function (th) {
      if (th.textContent === "有效") th.hidden = !shown;
    });
  }
  function num(x) { return { v: n(x), cls: "n" }; }
  function validCell(x) { return shown ? { v: v(x), cls: "n" } : null; }
  function barCell(received, valid, max) { return { v: bars(received, shown ? valid : null, max), cls: "b" }; }
  function maxOf(rows) { return Math.max.apply(null, [0].concat(rows.map(function (r) { return r.received || 0; }))); }

  /* ---- whose page, deadlines, requests ---- */
  function showMe(m) {
    var s = m.sponsor;
    text("who", s.name + " · " + s.kind_label);
    document.title = s.name + " · " + title;
    [].forEach.call(main.querySelectorAll("[data-f]"), function (e) {
      var f = e.getAttribute("data-f");
      if (f === "page") e.href = s.page;
      else if (f === "contact") e.textContent = m.contact ? [m.contact.name, m.contact.phone].filter(Boolean).join("，") : "尚未登记（请在本页下方指定）";
      else e.textContent = s[f] || "";
    });
    var initiator = s.kind === "initiator";
    [].forEach.call(main.querySelectorAll("[data-initiator]"), function (e) { e.hidden = !initiator; });
    s.channels = s.channels || [];
    fill("t-links", s.channels.map(function (c) {
      var a = el("a", c.url);
      a.href = c.url;
      return [c.label, a];
    }));
    var list = $("deadlines");
    list.textContent = "";
    [["links", "子链接申请"], ["prizes", "奖品登记"]].forEach(function (pair) {
      var d = (m.deadlines || {})[pair[0]];
      if (!d) return;
      var li = el("li", pair[1] + "：" + deadline(d.at) + "前 ");
      li.appendChild(el("span", d.passed ? "已截止" : "尚未截止", d.passed ? "passed" : "open"));
      list.appendChild(li);
      [].forEach.call(main.querySelectorAll('[data-deadline="' + pair[0] + '"]'), function (e) {
        e.textContent = d.passed ? "已于" + deadline(d.at) + "截止，不再接受新的申请。" : "截止时间：" + deadline(d.at) + "。";
        e.className = d.passed ? "late" : "";
      });
      var form = main.querySelector('form[data-kind="' + (pair[0] === "links" ? "sublink" : "prize") + '"]');
      if (form) form.querySelector("button").disabled = d.passed;
    });
    var lim = m.limits;
    if (lim) {
      text("used", "媒体 " + lim.used.media + "/" + lim.media + " 家，企业 " + lim.used.enterprise + "/" + lim.enterprise + " 家");
      main.querySelector('[data-limit="media"]').textContent = lim.media;
      main.querySelector('[data-limit="enterprise"]').textContent = lim.enterprise;
    }
    var select = $("placement-channel"), keep = select.value;
    select.length = 1;
    s.channels.forEach(function (c) { select.appendChild(new Option(c.label, c.id)); });
    select.value = keep;
    var labels = {};
    s.channels.forEach(function (c) { labels[c.id] = c.label; });
    var channels = $("sublink-channel");
    [].forEach.call(channels.options, function (o) { if (o.value) labels[o.value] = labels[o.value] || o.textContent; });
    m.requests = m.requests || [];
    fill("t-requests", m.requests.map(function (r) {
      var status = el("span", STATUS[r.status] || r.status, "st st-" + r.status), cell = el("div", status);
      if (r.decided) cell.appendChild(el("div", "审核于 " + beijing(r.decided), "note"));
      if (r.reason) cell.appendChild(el("div", (r.status === "rejected" ? "原因：" : "说明：") + r.reason, "note"));
      return [KINDS[r.kind] || r.kind, summary(r, labels), beijing(r.created), cell];
    }));
    $("no-requests").hidden = m.requests.length > 0;
    if (!m.requests.length) $("t-requests").tBodies[0].textContent = "";
  }
  function summary(r, labels) {
    var f = r.fields || {};
    switch (r.kind) {
      case "nominate": return f.name + "（" + (UNIT[f.kind] || f.kind) + "，" + f.province + "）";
      case "initiator": return f.name + "（" + f.province + "）";
      case "sublink": return (labels[f.channel] || f.channel) + "：" + f.label + "（" + f.channel + "." + f.key + "）";
      case "placement": return f.where + "（" + f.when + (f.channel ? "，" + (labels[f.channel] || f.channel) : "") + (f.upload ? "，附图" : "") + "）";
      case "prize": return f.item + " × " + f.quantity + "（" + f.provider + "，" + (UNIT[f.scope] || f.scope) + "）";
      case "contact": return f.name;
      default: return "";
    }
  }

  /* ---- numbers ---- */
  function showNumbers(r) {
    ["days", "hours", "channels", "provinces", "reasons"].forEach(function (k) { r[k] = r[k] || []; });
    r.totals = r.totals || {};
    shown = r.valid_shown !== false;
    $("legend-valid").hidden = !shown;
    text("n-updated", "数据更新于 " + (r.updated ? beijing(r.updated) : "—") + "（北京时间）。");
    main.querySelector('[data-n="received"]').textContent = n(r.totals.received);
    main.querySelector('[data-n="valid"]').textContent = v(r.totals.valid);
    var rank = r.rank || {};
    main.querySelector('[data-n="rank"]').textContent = rank.received ? rank.received.rank + " / " + rank.received.of : "—";
    main.querySelector('[data-n="rank-valid"]').textContent = rank.valid ? rank.valid.rank + " / " + rank.valid.of : "待公布";
    var note = $("n-valid-note"), t = "";
    if (r.valid_policy === "settled_days" && (!shown || r.valid_through)) {
      t = "有效样本数按日公布：每天的有效样本数在当天结束 24 小时后公布" + (r.valid_through ? "，目前已公布至" + md(r.valid_through) + "。" : "。");
    } else if (r.valid_policy === "after_close" && !shown) {
      t = "有效样本数将在调查结束后公布。";
    } else if (!shown) {
      t = "有效样本数不在本页公布，以秘书处发布的结果为准。";
    }
    if (t && r.valid_from && !shown) t += "首批有效样本数将于 " + beijing(r.valid_from) + " 公布。";
    if (t) t += "未公布的有效数显示为“待公布”，有效数排名也随之公布。";
    note.textContent = t;
    note.hidden = !t;
    var max = maxOf(r.days);
    fill("t-days", r.days.map(function (d) { return [md(d.day), num(d.received), validCell(d.valid), barCell(d.received, d.valid, max)]; }));
    var hours = $("hours");
    hours.textContent = "";
    (r.hours || []).forEach(function (day, i) {
      var total = day.hours.reduce(function (a, h) { return a + h.received; }, 0);
      var box = el("details"), table = el("table"), head = el("thead"), hr = el("tr"), body = el("tbody");
      if (i === 0) box.open = true;
      box.appendChild(el("summary", md(day.day) + "（收到 " + n(total) + " 份）"));
      ["时段", "收到", "有效", "图示"].forEach(function (h, j) {
        if (h === "有效" && !shown) return;
        var th = el("th", h === "图示" ? el("span", h, "vh") : h, j === 1 || j === 2 ? "n" : "");
        th.scope = "col";
        hr.appendChild(th);
      });
      head.appendChild(hr);
      table.appendChild(head);
      table.appendChild(body);
      var hmax = maxOf(day.hours);
      day.hours.filter(function (h) { return h.received > 0; }).forEach(function (h) {
        var tr = el("tr");
        tr.appendChild(el("td", (h.hour < 10 ? "0" : "") + h.hour + ":00"));
        tr.appendChild(el("td", n(h.received), "n"));
        if (shown) tr.appendChild(el("td", v(h.valid), "n"));
        tr.appendChild(el("td", bars(h.received, shown ? h.valid : null, hmax), "b"));
        body.appendChild(tr);
      });
      var wrap = el("div", table, "scroll");
      box.appendChild(wrap);
      hours.appendChild(box);
    });
    if (!(r.hours || []).length) hours.appendChild(el("p", "暂无数据", "note"));
    max = maxOf(r.channels);
    fill("t-channels", r.channels.map(function (c) {
      return [c.id.indexOf(".") > 0 ? c.label + "（子链接）" : c.label, num(c.received), validCell(c.valid), barCell(c.received, c.valid, max)];
    }));
    max = maxOf(r.provinces);
    fill("t-provinces", r.provinces.map(function (p) { return [p.province, num(p.received), validCell(p.valid), barCell(p.received, p.valid, max)]; }));
    var share = Math.max.apply(null, [0].concat(r.reasons.map(function (x) { return x.share; })));
    fill("t-reasons", r.reasons.map(function (x) {
      var sliver = x.share > 0 && share > 0 ? bar(x.share, share, "bar v") : "";
      return [x.title, num(x.count), { v: (100 * x.share).toFixed(1) + "%", cls: "n" }, { v: sliver, cls: "b" }];
    }));
    var group = r.group || { members: [], total: {} };
    fill("t-group", group.members.map(function (g) {
      return [g.name + "（" + ({ initiator: "发起单位", media: "媒体", enterprise: "企业" }[g.kind] || g.kind) + "）", num(g.received), validCell(g.valid)];
    }));
    var foot = $("t-group").tFoot;
    foot.textContent = "";
    if (group.total && group.members.length) {
      var tr = el("tr");
      tr.appendChild(el("th", "合计"));
      tr.appendChild(el("td", n(group.total.received), "n"));
      if (shown) tr.appendChild(el("td", v(group.total.valid), "n"));
      foot.appendChild(tr);
    }
  }

  /* ---- the forms ---- */
  function fieldsOf(form) {
    var out = {};
    [].forEach.call(form.elements, function (e) {
      if (!e.name || e.type === "file" || ((e.type === "radio" || e.type === "checkbox") && !e.checked)) return;
      var value = e.value.trim();
      if (value === "") return; // optional fields left empty are left out
      out[e.name] = e.type === "number" ? Number(value) : value;
    });
    return out;
  }
  function control(form, name) {
    var e = form.elements.namedItem(name); // not elements[name]: "item" would be the collection's own method
    if (e && e.length !== undefined && !e.options) return { group: $(form.getAttribute("data-kind") + "-" + name), first: e[0] };
    return e ? { group: null, first: e } : null;
  }
  function clearErrors(form) {
    [].forEach.call(form.querySelectorAll(".err"), function (p) { p.textContent = ""; });
    [].forEach.call(form.querySelectorAll("[aria-invalid]"), function (e) {
      e.removeAttribute("aria-invalid");
      var ids = (e.getAttribute("aria-describedby") || "").split(" ").filter(function (id) { return id && !/-err$/.test(id); });
      if (ids.length) e.setAttribute("aria-describedby", ids.join(" ")); else e.removeAttribute("aria-describedby");
    });
  }
  // The server names the field: the message goes beside it, the field says it is wrong and takes the focus.
  function fieldError(form, name, message) {
    var kind = form.getAttribute("data-kind"), c = control(form, name), p = $(kind + "-" + name + "-err");
    if (!c || !p) return false;
    p.textContent = message;
    var target = c.group || c.first;
    target.setAttribute("aria-invalid", "true");
    var ids = (target.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (ids.indexOf(p.id) < 0) ids.push(p.id);
    target.setAttribute("aria-describedby", ids.join(" "));
    c.first.focus();
    return true;
  }
  function status(form, message, ok) {
    var p = $(form.getAttribute("data-kind") + "-status");
    p.textContent = message;
    p.className = "status " + (ok ? "ok" : "bad");
  }
  function firstMissing(form) {
    return [].filter.call(form.elements, function (e) { return e.required && e.name && !e.disabled; }).filter(function (e) {
      if (e.type === "radio") return !form.querySelector('input[name="' + e.name + '"]:checked');
      return !e.value.trim();
    })[0];
  }
  function send(form) {
    var kind = form.getAttribute("data-kind"), button = form.querySelector("button");
    if (button.disabled) return;
    clearErrors(form);
    status(form, "", true);
    var missing = firstMissing(form);
    if (missing) { fieldError(form, missing.name, "请填写此项。"); status(form, "还有必填项未填写。", false); return; }
    var picker = form.elements.namedItem("upload"), fields = fieldsOf(form);
    var file = picker && picker.files && picker.files[0];
    button.disabled = true;
    status(form, file ? "正在上传图片…" : "正在提交…", true);
    (file ? upload(form, file) : Promise.resolve(null)).then(function (key) {
      if (key === false) return null; // the upload's own message is shown
      if (key) fields.upload = key;
      status(form, "正在提交…", true);
      return call("POST", "requests", { kind: kind, fields: fields }).then(function (r) {
        if (r.status === 201 || r.ok) {
          form.reset();
          status(form, "已提交，等待秘书处审核。审核结果见“申请记录”。", true);
          return reloadMe();
        }
        var d = r.data || {}, message = d.message || "提交未成功，请检查后重试。";
        if (!(d.field && fieldError(form, d.field, message))) status(form, message, false);
        else status(form, "请按提示修改后重新提交。", false);
      });
    }).catch(function (e) {
      if (!e || !e.handled) status(form, "网络连接失败，请稍后重试。", false);
    }).then(function () { button.disabled = false; if (me) showMe(me); });
  }
  // The file goes straight to the private bucket by a presigned POST; the bucket may answer without CORS headers,
  // so the answer is not read here (no-cors): the API checks that the object exists when the report is sent.
  function upload(form, file) {
    if (TYPES.indexOf(file.type) < 0) { fieldError(form, "upload", "请选择 PNG、JPEG 或 WebP 图片。"); status(form, "图片格式不支持。", false); return Promise.resolve(false); }
    if (file.size > MAX_BYTES || file.size < 1) { fieldError(form, "upload", "图片不能超过 5 MB。"); status(form, "图片过大。", false); return Promise.resolve(false); }
    return call("POST", "uploads", { content_type: file.type, size: file.size }).then(function (r) {
      if (!r.ok) {
        var d = r.data || {};
        fieldError(form, "upload", d.message || "图片上传未成功，请稍后重试。");
        status(form, "图片上传未成功。", false);
        return false;
      }
      var body = new FormData(), f = r.data.fields || {};
      Object.keys(f).forEach(function (k) { body.append(k, f[k]); });
      body.append("file", file); // S3 reads the fields before the file: it must come last
      return fetch(r.data.url, { method: "POST", body: body, mode: "no-cors", credentials: "omit", referrerPolicy: "no-referrer" })
        .then(function () { return r.data.key; });
    });
  }
})();
