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
  // Each cell carries its column's heading (data-label), which the phone layout shows beside the figure.
  function fill(name, rows, cells) {
    var table = $('[data-table="' + name + '"]'), body = table && table.tBodies[0];
    if (!body) return;
    var labels = [].filter.call(table.tHead ? table.tHead.rows[0].cells : [], function (th) { return !th.hidden; })
      .map(function (th) { return th.textContent; });
    body.textContent = "";
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      cells(r).forEach(function (c, i) { cell(tr, c); if (labels[i]) tr.lastChild.setAttribute("data-label", labels[i]); });
      body.appendChild(tr);
    });
  }

  // The daily chart, drawn at the width it is shown so its text keeps its own size (12 px, set in pages.css):
  // a left gutter for the scale, every day's bars, as many day labels as fit without touching, values over the
  // bars where there is room. With nothing received yet it says so instead of drawing an empty frame.
  var lastDays = null;
  function chart(days) {
    var box = $('[data-chart="days"]');
    if (!box) return;
    lastDays = days;
    fill("days", days, function (d) { return withValid([d.day, n(d.received)], v(d.valid)); });
    box.textContent = "";
    var max = Math.max.apply(null, [0].concat(days.map(function (d) { return d.received; })));
    if (!days.length || max === 0) {
      var empty = document.createElement("p");
      empty.className = "cp-empty";
      empty.textContent = "暂无数据";
      box.appendChild(empty);
      return;
    }
    var NS = "http://www.w3.org/2000/svg", FONT = 12, CHAR = 7.2;  // a digit's width at 12 px, generously
    var W = Math.max(240, Math.round(box.clientWidth || 320)), H = W < 480 ? 180 : 220;
    var top = 18, bottom = 22, scale = nice(max), left = Math.max(3, String(scale).length) * CHAR + 10;
    var plotW = W - left - 4, plotH = H - top - bottom, step = plotW / days.length;
    var bar = Math.max(2, Math.min(28, step * (shown ? 0.34 : 0.5)));
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("width", W);
    svg.setAttribute("height", H);
    svg.setAttribute("aria-hidden", "true");
    function el(name, attrs, text) {
      var node = document.createElementNS(NS, name);
      Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
      if (text !== undefined) node.textContent = text;
      svg.appendChild(node);
      return node;
    }
    (scale % 2 ? [0, 1] : [0, 0.5, 1]).forEach(function (f) {  // the scale: 0, half (when whole), top
      var y = top + plotH * (1 - f);
      el("line", { x1: left, x2: W - 4, y1: y, y2: y, "class": f ? "cp-grid" : "cp-axis" });
      el("text", { x: left - 6, y: y + FONT / 3, "text-anchor": "end" }, n(scale * f));
    });
    var labelW = 5 * CHAR, every = Math.max(1, Math.ceil((labelW + 6) / step));
    days.forEach(function (d, i) {
      var mid = left + step * (i + 0.5), h1 = plotH * d.received / scale;
      var bars = d.valid === undefined ? [[mid - bar / 2, h1, "cp-r"]]
        : [[mid - bar, h1, "cp-r"], [mid, plotH * d.valid / scale, "cp-v"]];
      bars.forEach(function (b) {
        el("rect", { x: b[0], y: top + plotH - Math.max(b[1], 0.5), width: bar, height: Math.max(b[1], 0.5), "class": b[2] });
      });
      if (i % every === 0) {
        el("text", { x: mid, y: H - 6, "text-anchor": "middle" }, +d.day.slice(5, 7) + "/" + +d.day.slice(8));
      }
      var value = n(d.received);
      if (d.received && value.length * CHAR + 4 <= step) {
        el("text", { x: mid, y: Math.max(FONT, top + plotH - h1 - 4), "text-anchor": "middle" }, value);
      }
    });
    box.appendChild(svg);
    var legend = document.createElement("p");
    legend.className = "cp-legend";
    legend.innerHTML = '<span class="cp-key cp-r"></span>收到' +
      (shown ? ' <span class="cp-key cp-v"></span>有效' : "");
    box.appendChild(legend);
  }
  // A round top for the scale: 1, 2 or 5 times a power of ten, at least the largest day.
  function nice(max) {
    var p = Math.pow(10, Math.floor(Math.log(max) / Math.LN10));
    return [1, 2, 5, 10].map(function (k) { return k * p; }).filter(function (t) { return t >= max; })[0];
  }
  var resized = null;
  window.addEventListener("resize", function () {
    clearTimeout(resized);
    resized = setTimeout(function () { if (lastDays) chart(lastDays); }, 200);
  });

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
  // Each part ("9 天") in a span that never wraps, so the countdown breaks between parts, never inside one.
  function left(ms) {
    var m = Math.floor(ms / 60000), d = Math.floor(m / 1440), h = Math.floor(m % 1440 / 60);
    var el = $('[data-field="countdown"]');
    if (!el) return;
    el.textContent = "";
    (d ? [[d, "天"], [h, "小时"], [m % 60, "分"]] : [[h, "小时"], [m % 60, "分"]]).forEach(function (part, i) {
      if (i) el.appendChild(document.createTextNode(" "));
      var unit = document.createElement("span");
      unit.className = "cp-unit";
      unit.textContent = part[0] + " " + part[1];
      el.appendChild(unit);
    });
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
