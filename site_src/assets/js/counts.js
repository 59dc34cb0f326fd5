// Live counts on the progress page and on each sponsor's page: numbers, a daily bar chart drawn as SVG, tables.
// No chart library: a few hundred lines of plain DOM keep the pages light on phones.
// Valid counts show only where the API sends them (the secretariat's policy decides when): where it leaves them out,
// the valid columns and bars are left out too and a note says when they will be published.
(function () {
  var meta = document.querySelector('meta[name="survey-api"]');
  var root = document.querySelector("[data-counts]");
  if (!meta || !root || !window.fetch) return;
  var api = meta.content, REFRESH = 60000, board = [], sponsorsBase = meta.dataset.sponsors || "";
  var KIND = { initiator: "发起单位", media: "支持单位（媒体）", enterprise: "支持单位（企业）" };
  var shown = true; // whether the last answer carried valid counts

  function $(sel) { return root.querySelector(sel); }
  function set(field, text) { var el = $('[data-field="' + field + '"]'); if (el) el.textContent = text; }
  function n(x) { return Number(x).toLocaleString("zh-CN"); }
  function v(x) { return x === undefined ? "待公布" : n(x); } // a valid count the API left out
  function md(day) { return +day.slice(5, 7) + "月" + +day.slice(8) + "日"; }
  function get(path) {
    return fetch(api + path, { cache: "no-cache" }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    });
  }
  function cell(row, text, cls) {
    var td = document.createElement("td");
    if (text && text.nodeType) td.appendChild(text); else td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
  }
  function fill(name, rows, cells) {
    var body = $('[data-table="' + name + '"] tbody');
    if (!body) return;
    body.textContent = "";
    rows.forEach(function (r) { var tr = document.createElement("tr"); cells(r).forEach(function (c) { cell(tr, c); }); body.appendChild(tr); });
  }

  function chart(days) {
    var box = $('[data-chart="days"]');
    if (!box) return;
    var W = 640, H = 220, pad = 28, max = Math.max(1, Math.max.apply(null, days.map(function (d) { return d.received; })));
    var step = (W - pad) / days.length, bar = step * 0.36, NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("aria-hidden", "true");
    days.forEach(function (d, i) {
      var x = pad + i * step, h1 = (H - 48) * d.received / max, h2 = (H - 48) * d.valid / max;
      var bars = d.valid === undefined ? [[x, h1, "cp-r"]] : [[x, h1, "cp-r"], [x + bar, h2, "cp-v"]];
      bars.forEach(function (b) {
        var rect = document.createElementNS(NS, "rect");
        rect.setAttribute("x", b[0]); rect.setAttribute("y", H - 24 - b[1]);
        rect.setAttribute("width", bar); rect.setAttribute("height", Math.max(b[1], 0.5));
        rect.setAttribute("class", b[2]);
        svg.appendChild(rect);
      });
      var label = document.createElementNS(NS, "text");
      label.setAttribute("x", x + bar); label.setAttribute("y", H - 8);
      label.setAttribute("text-anchor", "middle");
      label.textContent = +d.day.slice(5, 7) + "/" + +d.day.slice(8);
      svg.appendChild(label);
      if (d.received) {
        var value = document.createElementNS(NS, "text");
        value.setAttribute("x", x + bar); value.setAttribute("y", H - 28 - h1);
        value.setAttribute("text-anchor", "middle");
        value.textContent = n(d.received);
        svg.appendChild(value);
      }
    });
    box.textContent = "";
    box.appendChild(svg);
    var legend = document.createElement("p");
    legend.className = "cp-legend";
    legend.innerHTML = '<span class="cp-key cp-r"></span>收到' +
      (shown ? ' <span class="cp-key cp-v"></span>有效' : "");
    box.appendChild(legend);
    fill("days", days, function (d) { return withValid([d.day, n(d.received)], v(d.valid)); });
  }

  // What the answer says of the valid counts: columns shown or not, and the note that says when they come.
  function disclose(r) {
    shown = r.valid_shown !== false;
    root.querySelectorAll("[data-valid-col]").forEach(function (el) { el.hidden = !shown; });
    set("group-label", "含推荐单位" + (shown ? "有效" : "收到"));
    var note = $('[data-field="valid-note"]'), text = "";
    if (r.valid_policy === "settled_days" && (!shown || r.valid_through)) {
      text = "有效样本数按日公布：每天的有效样本数在当天结束 24 小时后公布" +
        (r.valid_through ? "，目前已公布至" + md(r.valid_through) + "。" : "。");
    } else if (r.valid_policy === "after_close" && !shown) {
      text = "有效样本数将在调查结束后公布。";
    } else if (!shown) {
      text = "有效样本数不在本页公布，以秘书处发布的结果为准。";
    }
    if (text && !shown && $('[data-table="board"]')) text += "在此之前，排行按已收到问卷数排列。";
    if (note) { note.textContent = text; note.hidden = !text; }
  }
  function withValid(cells, valid) {
    if (shown) cells.push(valid);
    return cells;
  }

  function countdown() {
    var now = Date.now(), opens = +root.dataset.opens, closes = +root.dataset.closes;
    if (!closes) return;
    if (now < opens) { set("countdown-label", "距调查开始"); left(opens - now); }
    else if (now < closes) { set("countdown-label", "距调查结束"); left(closes - now); }
    else { set("countdown-label", "调查状态"); set("countdown", "已结束"); }
  }
  function left(ms) {
    var m = Math.floor(ms / 60000), d = Math.floor(m / 1440), h = Math.floor(m % 1440 / 60);
    set("countdown", (d ? d + " 天 " : "") + h + " 小时 " + m % 60 + " 分");
  }

  function showBoard() {
    var kind = $('[data-filter-board="kind"]'), prov = $('[data-filter-board="province"]');
    var rows = board.filter(function (e) {
      return (!kind || !kind.value || e.kind === kind.value) && (!prov || !prov.value || e.province === prov.value);
    });
    fill("board", rows, function (e) {
      var a = document.createElement("a");
      a.href = sponsorsBase + e.sponsor + "/";
      a.textContent = e.name;
      var group = e.group ? (shown ? v(e.group.valid) : n(e.group.received)) : "—";
      return withValid([String(e.rank), a, e.province, n(e.received)], v(e.valid)).concat([group]);
    });
  }

  function campaign() {
    return Promise.all([get("counts"), get("counts/sponsors"), get("counts/provinces")]).then(function (res) {
      var c = res[0];
      disclose(c);
      set("received", n(c.total.received));
      set("valid", v(c.total.valid));
      set("updated", "更新于 " + c.updated.slice(11, 16));
      chart(c.days);
      board = res[1].sponsors;
      showBoard();
      fill("provinces", res[2].provinces, function (p) {
        return withValid([p.province, n(p.received)], v(p.valid)).concat([String(p.sponsors)]);
      });
    });
  }

  function sponsor(slug) {
    return get("counts/sponsors/" + encodeURIComponent(slug)).then(function (s) {
      disclose(s);
      set("received", n(s.total.received));
      set("valid", v(s.total.valid));
      set("updated", "更新于 " + s.updated.slice(11, 16));
      chart(s.days);
      fill("channels", Object.keys(s.channels).map(function (k) { return [k, s.channels[k]]; }), function (c) {
        var label = root.querySelector('[data-channel="' + c[0] + '"]');
        return withValid([label ? label.textContent : c[0], n(c[1].received)], v(c[1].valid));
      });
    });
  }

  function refresh() {
    var kind = root.dataset.counts;
    (kind === "campaign" ? campaign() : sponsor(kind)).catch(function () {
      set("updated", "暂时无法读取统计数据，稍后自动重试");
    });
  }
  root.addEventListener("change", function (e) { if (e.target.hasAttribute("data-filter-board")) showBoard(); });
  countdown();
  refresh();
  setInterval(countdown, 30000);
  setInterval(function () { if (!document.hidden) refresh(); }, REFRESH);
})();
