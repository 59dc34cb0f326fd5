/* The thank-you page after a sponsor's form (#from=<sponsor>/<channel id>, set by the form): that sponsor's prizes,
   read from its small s/<sponsor>/prizes.json, local-only ones only for respondents who answered its province, and
   the 兑奖码 the respondent keeps: the first 8 characters of the submission id the form kept, so a prize is claimed
   without the questionnaire asking for a name or a phone number. Nothing is sent anywhere. */
(function () {
  "use strict";
  var box = document.querySelector("[data-prizes]");
  var from = /^#from=([a-z0-9][a-z0-9-]*)\/[a-z0-9][a-z0-9.-]*$/.exec(location.hash);
  if (!box || !from || !window.fetch || !window.JSON) return;
  var claim = null;
  try { claim = JSON.parse(localStorage.getItem("survey-claim")); } catch (e) { /* no storage: no code */ }
  claim = claim || {};

  fetch("../s/" + from[1] + "/prizes.json", { cache: "no-cache" }).then(function (r) {
    if (!r.ok) throw new Error(r.status); // a sponsor without prizes has no file
    return r.json();
  }).then(function (data) {
    var list = box.querySelector("[data-prizes-list]"), shown = 0;
    data.prizes.forEach(function (p) {
      var local = p.scope === "local";
      // Without a province (no storage on this device) a local prize is shown with whom it is for.
      if (local && claim.province && claim.province !== data.province) return;
      var li = document.createElement("li");
      li.textContent = p.provider + "提供" + p.item + " " + p.quantity + " 份" + (local ? "（仅限" + data.province + "网民）" : "");
      list.appendChild(li);
      shown++;
    });
    if (!shown) return;
    var id = String(claim.id || "");
    if (/^[0-9a-f]{8}/i.test(id)) {
      box.querySelector("[data-claim-code]").textContent = (id.slice(0, 4) + "-" + id.slice(4, 8)).toUpperCase();
      box.querySelector("[data-claim]").hidden = false;
    }
    box.hidden = false;
  }).catch(function () { /* no prizes to show */ });
})();
