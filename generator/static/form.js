/* The questionnaire form, on top of a plain HTML form that works without this script.
   Adds: the survey window, a draft kept on the device, show-if, progress, field-level errors, a proof of work,
   a submission id kept across retries, and retries with backoff when the network or the server fails.
   A topic's form ("<questionnaire>.<topic>") is one page for every link: it reads the sponsor and the channel from
   its own address below the site root (data-root), and the sponsor's name, mark and prizes from its link.json.
   Drafts and the done marker are kept per questionnaire, so the common answers follow a change of topic. */
(function () {
  "use strict";
  var form = document.getElementById("survey");
  if (!form || !window.JSON || !window.fetch) return; // very old browsers post the plain form
  var qid = form.dataset.questionnaire, api = form.dataset.api, thanks = form.dataset.thanks;
  var base = qid.split(".")[0], topic = qid.split(".")[1];
  var statusEl = document.getElementById("status"), button = document.getElementById("submit");
  var draftKey = "survey-draft:" + base, store = storage();
  var link = attribution();
  var draft = read(draftKey) || {};
  var questions = [].slice.call(form.querySelectorAll("[data-q]")), byId = {};
  questions.forEach(function (q) { byId[q.dataset.q] = q; });
  var proof = null, sending = false, cityGroups = null, retryTimer = null; // set before the calls below run

  form.noValidate = true; // our own messages, tied to each question
  if (link) sponsorOf(link);
  if (!windowOpen()) return;
  document.getElementById("bar").hidden = false;
  restore();
  regionPicker();
  prizes();
  update();
  getProof();
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });

  function storage() {
    try { localStorage.setItem("survey-test", "1"); localStorage.removeItem("survey-test"); return localStorage; }
    catch (e) { return null; } // private mode: no draft, the form still works
  }
  function read(key) { try { return JSON.parse(store && store.getItem(key)); } catch (e) { return null; } }
  function write(key, value) { try { store && store.setItem(key, JSON.stringify(value)); } catch (e) { /* full */ } }

  /* ---- who invited: the page's own fields, else its address s/<sponsor>/<channel>/… below the site root ---- */
  function attribution() {
    var sponsor = form.elements.sponsor, channel = form.elements.channel, root = form.dataset.root;
    if (sponsor.value || root === undefined) return null;
    var at = new URL(root, location.href).pathname, path = location.pathname;
    var m = path.indexOf(at) === 0 && /^s\/([^/]+)\/([^/]+)\//.exec(path.slice(at.length));
    if (!m) return null;
    sponsor.value = decodeURIComponent(m[1]);
    channel.value = decodeURIComponent(m[2]);
    thanks += "#from=" + sponsor.value + "/" + channel.value;
    return root + "s/" + encodeURIComponent(sponsor.value) + "/link.json";
  }
  function sponsorOf(url) {
    fetch(url).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (s) {
      var cobrand = document.getElementById("cobrand"), box = document.getElementById("prizes");
      cobrand.innerHTML = '<span aria-hidden="true">×</span><img width="44" height="44">';
      cobrand.lastChild.src = form.dataset.root + s.mark;
      cobrand.lastChild.alt = s.short_name + "标识";
      document.getElementById("inviter").textContent = s.name;
      (s.prizes || []).forEach(function (p) {
        var li = document.createElement("li"), local = p.scope === "local";
        if (local) li.dataset.local = s.province;
        li.textContent = p.provider + "提供" + p.item + " " + p.quantity + " 份" + (local ? "（仅限" + s.province + "网民）" : "");
        if (box) box.querySelector("ul").appendChild(li);
      });
      prizes();
    }).catch(function () { /* the campaign's own header stays */ });
  }

  function windowOpen() {
    var el = document.getElementById("window"), now = Date.now();
    var msg = now < +el.dataset.opens ? el.dataset.before : now >= +el.dataset.closes ? el.dataset.after : "";
    if (!msg) return true;
    el.textContent = msg;
    form.hidden = true;
    return false;
  }

  function randomId() {
    var a = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return [].map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  function device() {
    var d = read("survey-device");
    if (!d) { d = randomId(); write("survey-device", d); }
    return d;
  }

  /* ---- draft ---- */
  function fields() {
    var out = [];
    [].forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.name === "homepage" || el.disabled) return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      if (el.value !== "") out.push([el.name, el.value]);
    });
    return out;
  }
  function save() {
    draft.values = fields();
    if (topic) draft.topic = topic; // the topic list goes on with it
    draft.saved = Date.now();
    write(draftKey, draft);
  }
  function restore() {
    (draft.values || []).forEach(function (pair) {
      var els = form.elements[pair[0]];
      if (!els) return;
      if (els.length !== undefined && !els.options) {
        [].forEach.call(els, function (el) { if (el.value === pair[1]) el.checked = true; });
      } else if (els.type === "radio" || els.type === "checkbox") {
        if (els.value === pair[1]) els.checked = true;
      } else {
        els.value = pair[1];
      }
    });
    if (draft.values && draft.values.length) say("已恢复您上次填写的内容。");
    else if (read("survey-done:" + base)) say("您已在本设备提交过这份问卷，感谢您的参与。");
  }
  function changed(e) {
    if (e.target.name === "region.province") { filterCities(); prizes(); }
    var q = e.target.closest && e.target.closest("[data-q]");
    if (q && q.classList.contains("bad")) check(q);
    update();
    save();
  }

  /* ---- region picker: the city list follows the province ---- */
  function regionPicker() {
    var city = form.elements["region.city"];
    if (!city) return;
    cityGroups = {};
    [].forEach.call(city.querySelectorAll("optgroup"), function (g) { cityGroups[g.label] = g; });
    filterCities();
  }
  function filterCities() {
    var p = form.elements["region.province"], city = form.elements["region.city"];
    if (!p || !city || !cityGroups) return;
    var keep = city.value;
    // Detach the groups first: removing options by index would empty the groups kept for later.
    [].forEach.call(city.querySelectorAll("optgroup"), function (g) { g.remove(); });
    var g = cityGroups[p.value];
    if (g) city.appendChild(g);
    city.value = g && [].some.call(g.children, function (o) { return o.value === keep; }) ? keep : "";
  }

  /* ---- prizes: local ones only for the sponsor's province as answered ---- */
  function prizes() {
    var box = document.getElementById("prizes"), p = form.elements["region.province"], left = 0;
    if (!box) return;
    [].forEach.call(box.querySelectorAll("li"), function (li) {
      li.hidden = li.dataset.local !== undefined && (!p || p.value !== li.dataset.local);
      if (!li.hidden) left++;
    });
    box.hidden = !left;
  }

  /* ---- show-if and progress ---- */
  function chosen(name) {
    var els = form.elements[name], out = [];
    if (!els) return out;
    [].forEach.call(els.length !== undefined ? els : [els], function (el) { if (el.checked) out.push(el.value); });
    return out;
  }
  function shown(q) { return !q.hidden; }
  /* The server's show-if rule (Question.shown, which Questionnaire.check applies in question order to the answers
     it has kept): a question applies when one of the options that show it is chosen at its show-if question and
     that question applies too, so a choice left at a question that no longer applies shows nothing. The question
     it names comes earlier in the form, so update() has already decided whether it applies. */
  function applies(q) {
    var rule = q.dataset.show;
    if (!rule) return true;
    var parts = rule.split(":"), wanted = parts[1].split(" "), by = byId[parts[0]];
    return !!by && shown(by) && chosen(parts[0]).some(function (v) { return wanted.indexOf(v) >= 0; });
  }
  function answered(q) {
    var type = q.dataset.type, name = q.dataset.q;
    if (type === "matrix") {
      return [].every.call(q.querySelectorAll(".row"), function (r) { return chosen(name + "." + r.dataset.row).length; });
    }
    if (type === "region") return !!(form.elements[name + ".province"].value && form.elements[name + ".city"].value);
    if (type === "text" || type === "textarea") return !!form.elements[name].value.trim();
    return chosen(name).length > 0;
  }
  function update() {
    var total = 0, done = 0;
    questions.forEach(function (q) {
      if (q.dataset.show) {
        var show = applies(q);
        q.hidden = !show;
        [].forEach.call(q.querySelectorAll("input,select,textarea"), function (el) { el.disabled = !show; });
      }
      if (!shown(q)) return;
      total++;
      if (answered(q)) done++;
    });
    var bar = document.getElementById("progress");
    bar.max = total; bar.value = done;
    document.getElementById("progress-text").textContent = "已完成 " + done + " / " + total + " 题";
  }

  /* ---- validation, messages tied to the question ---- */
  function check(q) {
    var msg = "", name = q.dataset.q, type = q.dataset.type, n = chosen(name).length;
    if (shown(q)) {
      if (type === "matrix") {
        if (q.hasAttribute("data-req") && !answered(q)) msg = "请为每一项评分";
      } else if (type === "region") {
        if (!form.elements[name + ".province"].value) msg = "请选择省份";
        else if (!form.elements[name + ".city"].value) msg = "请选择城市";
      } else if (q.hasAttribute("data-req") && !answered(q)) {
        msg = type === "text" || type === "textarea" ? "此题为必答题" : "请选择一项";
      } else if (type === "multi" && n && n < +q.dataset.min) {
        msg = "请至少选择 " + q.dataset.min + " 项";
      } else if (type === "multi" && n > +q.dataset.max) {
        msg = "最多选择 " + q.dataset.max + " 项";
      }
    }
    mark(q, msg);
    return !msg;
  }
  function mark(q, msg) {
    q.classList.toggle("bad", !!msg);
    document.getElementById("e-" + q.dataset.q).textContent = msg;
    [].forEach.call(q.querySelectorAll("input,select,textarea"), function (el) {
      if (msg) el.setAttribute("aria-invalid", "true"); else el.removeAttribute("aria-invalid");
    });
  }
  function validate() {
    var first = null;
    questions.forEach(function (q) { if (!check(q) && !first) first = q; });
    return first;
  }
  function focusOn(q) {
    var el = q.querySelector("input:not([disabled]),select,textarea");
    q.scrollIntoView({ block: "center" });
    if (el) el.focus({ preventScroll: true });
  }

  /* ---- answers as the API takes them ---- */
  function answers() {
    var out = {};
    questions.forEach(function (q) {
      if (!shown(q) || !answered(q) && q.dataset.type !== "matrix") return;
      var name = q.dataset.q, type = q.dataset.type;
      if (type === "single") out[name] = chosen(name)[0];
      else if (type === "multi") out[name] = chosen(name);
      else if (type === "rating") out[name] = +chosen(name)[0];
      else if (type === "matrix") {
        var rows = {};
        [].forEach.call(q.querySelectorAll(".row"), function (r) {
          var v = chosen(name + "." + r.dataset.row)[0];
          if (v) rows[r.dataset.row] = +v;
        });
        if (Object.keys(rows).length) out[name] = rows;
      } else if (type === "region") {
        out[name] = { province: form.elements[name + ".province"].value, city: form.elements[name + ".city"].value };
      } else out[name] = form.elements[name].value.trim();
    });
    return out;
  }

  /* ---- proof of work for this submission's id, found in the background while the respondent answers ---- */
  function fresh(p) { return p && p.nonce && Date.now() < p.expires - 600000; } // ten minutes to spare for sending
  function getProof(attempt) {
    var old = draft.proof;
    if (fresh(old)) { proof = old; return; }
    if (!window.crypto || !crypto.subtle || !window.TextEncoder) return; // sent without: flagged, still stored
    if (!draft.id) { draft.id = randomId(); save(); } // the challenge is issued for this submission alone
    // An expired challenge is renewed, not replaced: the server keeps its start time for the time-taken check.
    var url = api + "challenge?id=" + draft.id + (old && old.challenge ? "&renew=" + encodeURIComponent(old.challenge) : "");
    fetch(url, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (c) {
      // Expiry on this device's clock: the server's lifetime from its own issue time, which may differ from ours.
      var expires = Date.now() + (c.expires - +c.challenge.split(".")[0]);
      return solve(c.challenge, c.bits, expires);
    }).then(function (found) {
      proof = draft.proof = found;
      save();
    }).catch(function () {
      setTimeout(function () { getProof((attempt || 0) + 1); }, Math.min(30000, 2000 * Math.pow(2, attempt || 0)));
    });
  }
  function solve(challenge, bits, expires) {
    var enc = new TextEncoder(), start = 0, batch = 256;
    function ok(buf) {
      var b = new Uint8Array(buf), left = bits, i = 0;
      for (; left >= 8; left -= 8, i++) if (b[i]) return false;
      return !left || b[i] >> (8 - left) === 0;
    }
    return new Promise(function (resolve, reject) {
      (function round() {
        var tries = [];
        for (var n = start; n < start + batch; n++) tries.push(crypto.subtle.digest("SHA-256", enc.encode(challenge + ":" + n)));
        Promise.all(tries).then(function (hashes) {
          for (var i = 0; i < hashes.length; i++) {
            if (ok(hashes[i])) return resolve({ challenge: challenge, nonce: String(start + i), expires: expires });
          }
          start += batch;
          setTimeout(round, 0); // keep the page responsive
        }, reject);
      })();
    });
  }
  function waitForProof(ms) {
    return new Promise(function (resolve) {
      var until = Date.now() + ms;
      (function poll() { if (proof || Date.now() > until) resolve(); else setTimeout(poll, 200); })();
    });
  }

  /* ---- sending, with retries ---- */
  function say(text) { statusEl.textContent = text; }
  function submit() {
    if (sending) return;
    var bad = validate();
    if (bad) { say("还有题目需要填写，请查看标红的题目。"); focusOn(bad); return; }
    if (!draft.id) { draft.id = randomId(); save(); } // the same id for every retry, even after a reload
    sending = true;
    button.disabled = true;
    say("正在提交…");
    if (proof && !fresh(proof)) { proof = null; getProof(); } // a draft that outlived its challenge renews it
    var wait = proof || !(window.crypto && crypto.subtle) ? Promise.resolve() : (say("正在进行安全验证…"), waitForProof(20000));
    wait.then(function () { send(0); });
  }
  function send(attempt) {
    var body = {
      id: draft.id, questionnaire: qid, sponsor: form.elements.sponsor.value, channel: form.elements.channel.value,
      answers: answers(), homepage: form.elements.homepage.value, device: device()
    };
    if (proof) body.proof = { challenge: proof.challenge, nonce: proof.nonce };
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = ctrl && setTimeout(function () { ctrl.abort(); }, 15000);
    fetch(api + "submit", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      signal: ctrl ? ctrl.signal : undefined, cache: "no-store"
    }).then(function (r) {
      clearTimeout(timer);
      return r.json().catch(function () { return {}; }).then(function (data) { answer(r.status, data, attempt, r); });
    }, function () { clearTimeout(timer); retry(attempt, 0); });
  }
  function answer(status, data, attempt, r) {
    if (status === 200) {
      write("survey-done:" + base, draft.id);
      // For the thank-you page: its 兑奖码 and local prizes.
      var p = form.elements["region.province"];
      write("survey-claim", { id: draft.id, province: p ? p.value : "" });
      try { store && store.removeItem(draftKey); } catch (e) { /* ignore */ }
      location.href = thanks;
      return;
    }
    if (status === 429 || status >= 500) return retry(attempt, +(r.headers.get("Retry-After") || 0));
    finish();
    if (status === 400 && data.fields) {
      var first = null;
      data.fields.forEach(function (f) {
        var q = document.getElementById("q-" + f.field.split(".")[1]);
        if (q) { mark(q, f.message); first = first || q; }
      });
      say("提交未成功：" + (data.message || "请检查标红的题目"));
      if (first) focusOn(first);
    } else if (status === 409) {
      say("您此前已提交过这份答卷（内容与本次不同），以首次提交为准，感谢您的参与。");
    } else if (status === 403) {
      say(data.message || "当前不在调查时间内。");
    } else {
      say("提交未成功（" + status + "）：" + (data.message || "请稍后重试。"));
    }
  }
  function retry(attempt, after) {
    var delay = Math.max(after * 1000, Math.min(30000, 1000 * Math.pow(2, attempt))) * (0.75 + Math.random() / 2);
    var secs = Math.round(delay / 1000);
    say(navigator.onLine === false ? "网络已断开，恢复连接后将自动提交，您的答案已保存在本机。"
      : "网络不稳定，" + secs + " 秒后自动重试（第 " + (attempt + 1) + " 次），您的答案已保存在本机。");
    function again() {
      window.removeEventListener("online", again);
      clearTimeout(retryTimer);
      send(attempt + 1);
    }
    window.addEventListener("online", again);
    retryTimer = setTimeout(again, navigator.onLine === false ? 3600000 : delay);
  }
  function finish() { sending = false; button.disabled = false; }
})();
