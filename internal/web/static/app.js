// dpcops dashboard: the range picker and auto-refresh. The page works
// without it; it only saves clicks.
(function () {
  "use strict";
  var form = document.getElementById("range-form");
  if (!form) { return; }
  var range = document.getElementById("range");
  var custom = form.querySelector(".custom");
  range.addEventListener("change", function () {
    custom.hidden = range.value !== "custom";
    if (range.value !== "custom") { form.requestSubmit(); }
  });
  document.getElementById("refresh").addEventListener("change", function () { form.requestSubmit(); });
  // Custom ranges are entered in local time; the server wants RFC 3339.
  form.addEventListener("submit", function () {
    ["from", "to"].forEach(function (name) {
      var local = form.querySelector("[name=" + name + "_local]");
      var hidden = form.querySelector("input[type=hidden][name=" + name + "]");
      if (hidden) { hidden.remove(); }
      if (range.value === "custom" && local && local.value) {
        var h = document.createElement("input");
        h.type = "hidden"; h.name = name; h.value = new Date(local.value).toISOString().replace(/\.\d{3}Z$/, "Z");
        form.appendChild(h);
      }
      if (local) { local.disabled = true; }
    });
  });
  var every = parseInt(new URLSearchParams(location.search).get("refresh") || "0", 10);
  if (every > 0) { setTimeout(function () { location.reload(); }, every * 1000); }
})();
