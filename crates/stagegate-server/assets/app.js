// Live updates without a reload: a page whose <main> has data-refresh="N"
// re-fetches itself every N seconds and swaps in the new <main>, keeping
// focus where it was. Without JavaScript the page is complete, just static.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main || !main.dataset.refresh || !window.fetch || !window.DOMParser) return;
  var every = Math.max(2, parseInt(main.dataset.refresh, 10) || 10) * 1000;
  // Someone is filling in a form (a public update, say): swapping <main>
  // would throw their words away, so the view waits until they are done.
  function editing() {
    var fields = main.querySelectorAll("textarea, input:not([type=hidden]), select");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f === document.activeElement) return true;
      if (f.tagName === "TEXTAREA" && f.value !== "") return true;
    }
    return false;
  }
  function refresh() {
    if (document.hidden || editing()) return;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Stagegate-Refresh": "1" } })
      .then(function (r) {
        if (r.redirected || !r.ok) { throw new Error("session ended"); }
        return r.text();
      })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (!next || next.innerHTML === main.innerHTML) return;
        var active = document.activeElement && document.activeElement.id;
        main.innerHTML = next.innerHTML;
        if (active) {
          var again = document.getElementById(active);
          if (again) again.focus();
        }
      })
      .catch(function () { /* keep the last good view; retry on the next tick */ });
  }
  window.setInterval(refresh, every);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
})();
