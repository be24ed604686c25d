/* Progressive enhancement of forms: fields shown for one organisation kind, territory autocomplete.
   Uses data attributes only, so the theme's classes stay in templates/. */
(function () {
  function toggleKindFields() {
    var kind = document.getElementById("kind");
    if (!kind) return;
    document.querySelectorAll("[data-show-for-kind]").forEach(function (block) {
      block.hidden = block.getAttribute("data-show-for-kind") !== kind.value;
    });
  }

  function territoryAutocomplete(input) {
    if (typeof TomSelect === "undefined") return;
    var initial = (input.value || "").split(",").filter(Boolean).map(function (ref) {
      return { id: ref.trim(), label: ref.trim() };
    });
    new TomSelect(input, {
      valueField: "id", labelField: "label", searchField: ["label"], delimiter: ",",
      options: initial, items: initial.map(function (o) { return o.id; }), create: false, maxOptions: 20,
      load: function (query, callback) {
        if (query.length < 2) return callback();
        fetch("/api/v1/territories?q=" + encodeURIComponent(query))
          .then(function (r) { return r.json(); })
          .then(function (data) { callback(data.results || []); })
          .catch(function () { callback(); });
      },
      render: { no_results: function () { return "<div class=\"no-results\">Aucun territoire trouvé</div>"; } }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var kind = document.getElementById("kind");
    if (kind) { kind.addEventListener("change", toggleKindFields); toggleKindFields(); }
    document.querySelectorAll("[data-territory-autocomplete]").forEach(territoryAutocomplete);
  });
})();
