// Live counts on the progress page and on each sponsor's page: numbers, a daily bar chart drawn as SVG, tables.
// No chart library: a few hundred lines of plain DOM keep the pages light on phones.
(function () {
  var meta = document.querySelector('meta[name="survey-api"]');
  var root = document.querySelector("[data-counts]");
  if (!meta || !root || !window.fetch) return;
  var api = meta.content, REFRESH = 60000, board = [], sponsorsBase = meta.dataset.sponsors || "";
  var KIND = { initiator: "发起单位", media: "支持单位（媒体）", enterprise: "支持单位（企业）" };

  function $(sel) { return root.querySelector(sel); }
  function set(field, text) { var el = $('[data-field="' + field + '"]'); if (el) el.textContent = text; }
  function n(x) { return Number(x).toLocaleString("zh-CN"); }
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
      [[x, h1, "cp-r"], [x + bar, h2, "cp-v"]].forEach(function (b) {
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
    legend.innerHTML = '<span class="cp-key cp-r"></span>收到 <span class="cp-key cp-v"></span>有效';
    box.appendChild(legend);
    fill("days", days, function (d) { return [d.day, n(d.received), n(d.valid)]; });
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
      return [String(e.rank), a, e.province, n(e.received), n(e.valid), e.group ? n(e.group.valid) : "—"];
    });
  }

  function campaign() {
    return Promise.all([get("counts"), get("counts/sponsors"), get("counts/provinces")]).then(function (res) {
      var c = res[0];
      set("received", n(c.total.received));
      set("valid", n(c.total.valid));
      set("updated", "更新于 " + c.updated.slice(11, 16));
      chart(c.days);
      board = res[1].sponsors;
      showBoard();
      fill("provinces", res[2].provinces, function (p) { return [p.province, n(p.received), n(p.valid), String(p.sponsors)]; });
    });
  }

  function sponsor(slug) {
    return get("counts/sponsors/" + encodeURIComponent(slug)).then(function (s) {
      set("received", n(s.total.received));
      set("valid", n(s.total.valid));
      set("updated", "更新于 " + s.updated.slice(11, 16));
      chart(s.days);
      fill("channels", Object.keys(s.channels).map(function (k) { return [k, s.channels[k]]; }), function (c) {
        var label = root.querySelector('[data-channel="' + c[0] + '"]');
        return [label ? label.textContent : c[0], n(c[1].received), n(c[1].valid)];
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
