/* A questionnaire's topic list at one link. Without script every topic is a plain link (the respondent chooses).
   With it: outside the survey window the list gives way to the window's message; a respondent with a draft of this
   questionnaire goes on with the topic it was started on; otherwise, where the server balances topics, it is asked
   (api/assign) and the respondent is sent to the topic it assigns, or offered only the topics it names. If the
   server cannot be asked, the whole list stays. */
(function () {
  "use strict";
  var list = document.getElementById("topics");
  if (!list || !window.JSON) return;
  var mode = list.dataset.assignment, base = list.dataset.questionnaire;
  var status = document.getElementById("topics-status"), when = document.getElementById("window"), now = Date.now();
  var closed = now < +when.dataset.opens ? when.dataset.before : now >= +when.dataset.closes ? when.dataset.after : "";
  if (closed) {
    when.textContent = closed;
    list.closest(".card").hidden = true;
    return;
  }
  var items = {};
  [].forEach.call(list.querySelectorAll("[data-topic]"), function (li) { items[li.dataset.topic] = li; });
  var draft = null;
  try { draft = JSON.parse(localStorage.getItem("survey-draft:" + base)); } catch (e) { /* no storage */ }
  var started = draft && draft.topic && items[draft.topic] && draft.values && draft.values.length ? draft.topic : "";
  if (mode === "choose" || !window.fetch) return;
  if (mode === "assign" && started) return go(started);
  status.textContent = mode === "assign" ? "正在为您分配专题…" : "正在为您挑选专题…";
  fetch(list.dataset.api + "assign?questionnaire=" + encodeURIComponent(base), { cache: "no-store" }).then(function (r) {
    if (!r.ok) throw new Error(r.status);
    return r.json();
  }).then(function (answer) {
    var offered = (answer.topics || []).filter(function (t) { return items[t]; });
    if (!offered.length) throw new Error("no topic");
    if (mode === "assign") return go(offered[0]);
    if (started && offered.indexOf(started) < 0) offered.unshift(started);
    Object.keys(items).forEach(function (t) { items[t].hidden = offered.indexOf(t) < 0; });
    status.textContent = "请从以下专题中选择一个：";
  }).catch(function () {
    status.textContent = "请选择您最想回答的专题。";
  });

  function go(topic) {
    status.textContent = "正在打开专题问卷…";
    location.replace(items[topic].querySelector("a").href);
  }
})();
