// Copy buttons, print buttons and directory filters. Plain DOM, no library: the site must stay light on phones.
(function () {
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

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-filter]")) return;
    var query = input.value.trim();
    document.querySelectorAll(input.getAttribute("data-filter")).forEach(function (item) {
      item.hidden = query !== "" && (item.getAttribute("data-search") || "").indexOf(query) === -1;
    });
  });
})();
