/* Progressive enhancement of forms: fields shown for one organisation kind, territory autocomplete.
   Uses data attributes only, so the theme's classes stay in templates/. */
(function () {
  // tom-select moves the <label> to its own control and keeps the original field for screen readers:
  // give that field its own name first, so it is never an unlabelled form element.
  function keepAccessibleName(field) {
    var label = document.querySelector("label[for='" + field.id + "']");
    if (label && !field.getAttribute("aria-label")) field.setAttribute("aria-label", label.textContent.trim());
  }

  // tom-select inserts what render functions return as HTML: every label goes through its escape()
  function escapedRender(field) {
    function one(data, escape) { return "<div>" + escape(data[field]) + "</div>"; }
    return { option: one, item: one };
  }

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
    var single = input.getAttribute("data-territory-autocomplete") === "single";
    var kinds = input.getAttribute("data-territory-kinds");
    keepAccessibleName(input);
    var select = new TomSelect(input, {
      valueField: "id", labelField: "label", searchField: ["label"], delimiter: ",", maxItems: single ? 1 : null,
      options: initial, items: initial.map(function (o) { return o.id; }), create: false, maxOptions: 20,
      load: function (query, callback) {
        if (query.length < 2) return callback();
        fetch("/api/v1/territories?q=" + encodeURIComponent(query) + (kinds ? "&kinds=" + kinds : ""))
          .then(function (r) { return r.json(); })
          .then(function (data) { callback(data.results || []); })
          .catch(function () { callback(); });
      },
      render: Object.assign(escapedRender("label"), {
        no_results: function () { return "<div class=\"no-results\">Aucun territoire trouvé</div>"; }
      })
    });
    initial.forEach(function (option) {  // show "Lille (59)" rather than "commune:59350"
      fetch("/api/v1/territories/" + encodeURIComponent(option.id))
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (t) { if (t && t.label) select.updateOption(option.id, { id: option.id, label: t.label }); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var kind = document.getElementById("kind");
    if (kind) { kind.addEventListener("change", toggleKindFields); toggleKindFields(); }
    document.querySelectorAll("[data-territory-autocomplete]").forEach(territoryAutocomplete);
    if (typeof TomSelect !== "undefined") {
      document.querySelectorAll("select[data-multiselect]").forEach(function (select) {
        keepAccessibleName(select);
        new TomSelect(select, { plugins: ["remove_button"], maxOptions: 300, hideSelected: true,
                                render: escapedRender("text") });
      });
    }
  });
})();
