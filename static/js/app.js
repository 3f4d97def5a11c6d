/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";

  function parseAmount(text) {
    var value = parseFloat(String(text || "").replace(/[,，\s]/g, ""));
    return isNaN(value) ? null : value;
  }

  // Thousands separators in amount inputs, shown when the field is left.
  document.addEventListener("focusout", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("input--amount")) { return; }
    if (/(quantity|years_in_service)$/.test(input.name)) { return; }
    var value = parseAmount(input.value);
    if (value !== null) {
      input.value = value.toLocaleString("en-US", { maximumFractionDigits: 4 });
    }
  });

  // Commitment-filing eligibility as the enterprise types.
  function updateEligibility() {
    var box = document.getElementById("eligibility");
    var form = document.getElementById("project-form");
    if (!box || !form) { return; }
    var total = parseAmount(form.elements.total_investment.value);
    var equipment = parseAmount(form.elements.equipment_investment.value);
    var threshold = parseFloat(box.dataset.threshold);
    var ok = false;
    var text;
    if (form.elements.new_land.checked) {
      text = box.dataset.noLand;
    } else if (!total || equipment === null) {
      text = box.dataset.unknown;
    } else {
      var share = (equipment / total * 100).toFixed(1) + "%";
      ok = equipment / total >= threshold;
      text = ok ? box.dataset.yes.replace("{share}", share)
                : box.dataset.noShare.replace("{share}", share)
                    .replace("{threshold}", (threshold * 100).toFixed(0) + "%");
    }
    box.textContent = text;
    box.className = "flash " + (ok ? "flash--success" : "flash--info");
  }
  document.addEventListener("input", updateEligibility);
  document.addEventListener("change", updateEligibility);
  document.addEventListener("DOMContentLoaded", updateEligibility);

  // Select-all checkbox for bulk decisions.
  document.addEventListener("change", function (event) {
    var name = event.target.dataset && event.target.dataset.selectAll;
    if (!name) { return; }
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      box.checked = event.target.checked;
    });
  });

  // Print buttons on printable documents.
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });
}());

/* Progress of a batch import: poll until it finishes, then show the outcome. */
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) { return; }
  var bar = document.getElementById("job-progress");
  var timer = window.setInterval(function () {
    fetch(box.dataset.progressUrl, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.total) { bar.max = state.total; bar.value = state.done; }
        if (state.status === "done" || state.status === "failed" ||
            (state.stage || "") !== box.dataset.stage) { window.clearInterval(timer); window.location.reload(); }
      });
  }, 800);
}());
