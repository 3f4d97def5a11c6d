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

  // Equipment rows: added and removed in the page (the buttons submit the form without
  // this script), with the subtotal of the equipment to buy kept current.
  function equipmentSubtotal(table) {
    var total = 0, priced = false;
    table.querySelectorAll("tbody tr[data-row]").forEach(function (row) {
      var kind = row.querySelector('select[name$="-kind"]');
      var quantity = parseAmount((row.querySelector('input[name$="-quantity"]') || {}).value);
      var price = parseAmount((row.querySelector('input[name$="-unit_price"]') || {}).value);
      if (kind && kind.value === "new" && quantity && price !== null) {
        total += quantity * price;
        priced = true;
      }
    });
    var cell = document.getElementById("equipment-subtotal");
    if (cell) {
      cell.textContent = priced ? (Math.round(total * 10000) / 10000).toLocaleString(
        "en-US", { maximumFractionDigits: 4 }) : cell.dataset.empty;
    }
  }
  document.addEventListener("click", function (event) {
    var add = event.target.closest && event.target.closest("[data-add-row]");
    var remove = event.target.closest && event.target.closest("[data-remove-row]");
    var template = document.getElementById("equipment-row-template");
    if (!template || !(add || remove)) { return; }
    var table = document.getElementById("equipment-rows");
    var body = table.querySelector("tbody");
    event.preventDefault();
    if (add) {
      var next = 0;
      body.querySelectorAll('[name$="-name"]').forEach(function (input) {
        var index = parseInt(input.name.split("-")[1], 10);
        if (index >= next) { next = index + 1; }
      });
      var holder = document.createElement("tbody");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(next));
      var row = holder.querySelector("tr");
      body.appendChild(row);
      row.querySelector('[name$="-name"]').focus();
    } else {
      var rows = body.querySelectorAll("tr[data-row]");
      var current = remove.closest("tr");
      if (rows.length > 1) {
        current.remove();
      } else {
        current.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      }
    }
    equipmentSubtotal(table);
  });
  document.addEventListener("input", function (event) {
    var table = event.target.closest && event.target.closest("#equipment-rows");
    if (table) { equipmentSubtotal(table); }
  });
  document.addEventListener("change", function (event) {
    var table = event.target.closest && event.target.closest("#equipment-rows");
    if (table) { equipmentSubtotal(table); }
  });

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
