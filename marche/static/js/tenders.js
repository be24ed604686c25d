/* Tender form: CPV codes searched by code or words (/api/v1/cpv), several allowed, the main one first.
   Progressive enhancement: without JavaScript the field is a plain text of codes separated by commas.
   Labels go through tom-select's escape(): user and catalogue text is never markup. */
(function () {
  function cpvAutocomplete(input) {
    if (typeof TomSelect === "undefined") return;
    var label = document.querySelector("label[for='" + input.id + "']");
    if (label && !input.getAttribute("aria-label")) input.setAttribute("aria-label", label.textContent.trim());
    var initial = (input.value || "").split(",").map(function (c) { return c.trim(); }).filter(Boolean)
      .map(function (code) { return { code: code, label: code }; });
    function one(data, escape) { return "<div>" + escape(data.label) + "</div>"; }
    new TomSelect(input, {
      valueField: "code", labelField: "label", searchField: ["label"], delimiter: ",", maxItems: 20,
      options: initial, items: initial.map(function (o) { return o.code; }), create: false, maxOptions: 20,
      plugins: ["remove_button"],
      load: function (query, callback) {
        if (query.length < 2) return callback();
        fetch("/api/v1/cpv?limit=15&q=" + encodeURIComponent(query))
          .then(function (r) { return r.json(); })
          .then(function (data) {
            callback((data.results || []).map(function (c) { return { code: c.code, label: c.code + " — " + c.label }; }));
          })
          .catch(function () { callback(); });
      },
      render: { option: one, item: one,
                no_results: function () { return "<div class=\"no-results\">Aucun code CPV trouvé</div>"; } }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-cpv-autocomplete]").forEach(cpvAutocomplete);
  });
  // the need box (need.js) read a duration in the text (« 3 ans »): it fills the duration in months
  document.addEventListener("need:accept", function (event) {
    var field = document.getElementById("duration_months");
    if (field && event.detail && event.detail.kind === "duration") field.value = event.detail.value;
  });
})();
