// WeChat's share card (title, description, image) for the page, through the official account's JS-SDK.
// Only inside WeChat, and only once the campaign has configured its official account: the site's own signature
// function (lambdas/wechat) answers with the account's app id when it is set up, and only then is WeChat's script
// loaded from WeChat's host (the CSP must allow it then: see README, "WeChat"). Until then nothing leaves the site.
(function () {
  if (!/MicroMessenger/i.test(navigator.userAgent) || !window.fetch || !document.querySelector) return;
  var SDK = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js";
  var script = document.currentScript || document.querySelector('script[src*="assets/js/wechat.js"]');
  if (!script) return;
  var api = new URL("../../api/wechat/signature", script.src).href;
  var page = location.href.split("#")[0];

  function meta(name) {
    var m = document.querySelector('meta[property="' + name + '"]') || document.querySelector('meta[name="' + name + '"]');
    return m ? m.content : "";
  }
  function absolute(url) { return url ? new URL(url, location.href).href : ""; }

  function share(sig) {
    var wx = window.wx;
    if (!wx) return;
    wx.config({ debug: false, appId: sig.appId, timestamp: sig.timestamp, nonceStr: sig.nonceStr, signature: sig.signature,
                jsApiList: ["updateAppMessageShareData", "updateTimelineShareData"] });
    wx.ready(function () {
      var card = { title: meta("og:title") || document.title, desc: meta("og:description") || meta("description"),
                   link: page, imgUrl: absolute(meta("og:image")) };
      wx.updateAppMessageShareData(card);
      wx.updateTimelineShareData({ title: card.title, link: card.link, imgUrl: card.imgUrl });
    });
  }

  fetch(api + "?url=" + encodeURIComponent(page), { cache: "no-store", credentials: "omit" }).then(function (r) {
    // The body is always read, so the request ends (an unread one stays open in the browser).
    return r.ok ? r.json() : r.text().then(function () { return null; });
  }).then(function (sig) {
    if (!sig || !sig.appId) return; // not configured: the card stays WeChat's default, nothing is loaded
    var sdk = document.createElement("script");
    sdk.src = SDK;
    sdk.onload = function () { share(sig); };
    document.head.appendChild(sdk);
  }).catch(function () {});
})();
