// Pages under an old slug forward to the current one. The meta refresh beside this script would drop the query
// string (?from=poster) and the hash; this keeps them. A file, not an inline script, for the site's CSP.
(function () {
  var target = document.currentScript.getAttribute("data-target");
  location.replace(target + location.search + location.hash);
})();
