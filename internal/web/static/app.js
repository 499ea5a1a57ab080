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
  // A custom range is sent as typed: wall-clock times in the spec's zone,
  // which the server reads in that zone whatever the browser's. Other
  // ranges leave the custom fields out of the URL.
  form.addEventListener("submit", function () {
    ["from_local", "to_local"].forEach(function (name) {
      var local = form.querySelector("[name=" + name + "]");
      if (local) { local.disabled = range.value !== "custom" || !local.value; }
    });
  });
  var every = parseInt(new URLSearchParams(location.search).get("refresh") || "0", 10);
  if (every > 0) { setTimeout(function () { location.reload(); }, every * 1000); }
})();
