// Copy buttons, print buttons, directory filters, the thank-you page's link to forward and WeChat's hints.
// Plain DOM, no library: the site must stay light on phones.
(function () {
  var inWeChat = /MicroMessenger/i.test(navigator.userAgent);

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // WeChat's in-app browser and plain-http pages have no async clipboard: fall back to a hidden textarea.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      ok ? resolve() : reject(new Error("copy failed"));
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-print]");
    if (!button) return;
    if (button.hasAttribute("data-print")) { window.print(); return; }
    var text = button.getAttribute("data-copy");
    var label = button.textContent;
    copyText(text).then(function () {
      button.setAttribute("data-done", "");
      button.textContent = "已复制";
    }, function () {
      button.textContent = "请长按手动复制";
    }).then(function () {
      setTimeout(function () { button.removeAttribute("data-done"); button.textContent = label; }, 2000);
    });
  });

  // Directory filters: a group whose members are all filtered out is hidden with its heading, and when nothing
  // matches at all the page says so instead of showing empty headings.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-filter]")) return;
    var query = input.value.trim(), shown = 0;
    document.querySelectorAll(input.getAttribute("data-filter")).forEach(function (item) {
      item.hidden = query !== "" && (item.getAttribute("data-search") || "").indexOf(query) === -1;
      if (!item.hidden) shown += 1;
    });
    var groups = input.getAttribute("data-filter-groups");
    if (groups) {
      document.querySelectorAll(groups).forEach(function (group) {
        group.hidden = !group.querySelector("[data-search]:not([hidden])");
      });
    }
    var emptySelector = input.getAttribute("data-filter-empty");
    var empty = emptySelector && document.querySelector(emptySelector);
    if (empty) {
      empty.hidden = shown > 0;
      if (shown === 0) empty.querySelector("[data-query]").textContent = query;
    }
  });

  // The thank-you page: forward the link the respondent came by (#from=<sponsor>/<channel>, set by the form), so
  // a friend's answers count for the same sponsor; without it, the campaign's own link stays.
  var forward = document.querySelector("[data-forward]");
  var from = /^#from=([a-z0-9][a-z0-9-]*)\/([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)?)$/.exec(location.hash);
  if (forward && from) {
    var link = forward.querySelector("[data-forward-link]"), copy = forward.querySelector("[data-forward-copy]");
    var qr = forward.querySelector("[data-forward-qr]");
    var original = { url: copy.getAttribute("data-copy"), qr: qr.getAttribute("src") };
    var point = function (url, src) {
      link.href = url;
      link.textContent = url;
      copy.setAttribute("data-copy", url);
      qr.src = src;
    };
    qr.onerror = function () { qr.onerror = null; point(original.url, original.qr); }; // no such link: keep ours
    point(forward.getAttribute("data-site") + "s/" + from[1] + "/" + from[2] + "/",
          "../sponsors/" + from[1] + "/kit/" + from[1] + "-qr-" + from[2] + ".png");
  }

  // WeChat's browser cannot download files: say so where the page offers them. And the share card (wechat.js),
  // which loads nothing from outside until the campaign has configured its official account.
  if (inWeChat) {
    document.querySelectorAll("[data-wechat-hint]").forEach(function (hint) { hint.hidden = false; });
    var me = document.currentScript;
    if (me) {
      var share = document.createElement("script");
      share.src = new URL("wechat.js", me.src).href;
      share.defer = true;
      document.head.appendChild(share);
    }
  }
})();
