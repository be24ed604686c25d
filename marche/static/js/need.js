/* The need box (templates/search/_need_box.html): a click on a suggestion dispatches
   CustomEvent("need:accept", {detail: {kind, value, label}}) from the box, and fills the fields the box
   names (data-cpv-target, data-sector-target, data-place-target: input ids). On the « Décrire un besoin »
   page it also lists the choices and builds the directory search for them. User text is set as
   textContent only. */
(function () {
  function fillCpv(input, value, label) {
    // the tender form's CPV field is a tom-select (tenders.js): values are codes, labels « code — libellé »
    if (input.tomselect) {
      input.tomselect.addOption({ code: value, label: value + " — " + label });
      input.tomselect.addItem(value);
      return;
    }
    var codes = (input.value || "").split(",").map(function (c) { return c.trim(); }).filter(Boolean);
    if (codes.indexOf(value) === -1) codes.push(value);
    input.value = codes.join(", ");
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function fillSector(field, value) {
    if (field.tomselect) { field.tomselect.addItem(value); return; }
    Array.prototype.forEach.call(field.options || [], function (option) {
      if (option.value === value) option.selected = true;
    });
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function fillPlace(input, value, label) {
    // the territory autocomplete (forms.js) keeps the reference as the field's value
    if (input.tomselect) {
      input.tomselect.addOption({ id: value, label: label });
      input.tomselect.setValue(value);
      return;
    }
    input.value = value;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function accept(box, button) {
    var detail = { kind: button.getAttribute("data-need-kind"), value: button.getAttribute("data-need-value"),
                   label: button.getAttribute("data-need-label") };
    var target = { cpv: "data-cpv-target", sector: "data-sector-target", place: "data-place-target" }[detail.kind];
    var field = target && box.getAttribute(target) ? document.getElementById(box.getAttribute(target)) : null;
    if (field && detail.kind === "cpv") fillCpv(field, detail.value, detail.label);
    if (field && detail.kind === "sector") fillSector(field, detail.value);
    if (field && detail.kind === "place") fillPlace(field, detail.value, detail.label);
    button.setAttribute("aria-pressed", "true");
    box.dispatchEvent(new CustomEvent("need:accept", { bubbles: true, detail: detail }));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-need-kind]") : null;
    var box = button ? button.closest("[data-need-box]") : null;
    if (box) accept(box, button);
  });

  // the demo page: the choices, and the directory search they make (sectors and place)
  function choicesList(section) {
    var chosen = [];
    var list = section.querySelector("[data-need-chosen]");
    var link = section.querySelector("[data-need-directory]");
    var empty = section.querySelector("[data-need-empty]");
    function render() {
      list.textContent = "";
      var args = new URLSearchParams();
      chosen.forEach(function (choice) {
        var item = document.createElement("li");
        var tag = document.createElement("p");
        tag.className = "fr-tag";
        tag.textContent = choice.text;
        item.appendChild(tag);
        list.appendChild(item);
        if (choice.kind === "sector") args.append("sector", choice.value);
        if (choice.kind === "place") args.set("territory", choice.value);
      });
      empty.hidden = chosen.length > 0;
      var query = args.toString();
      link.href = section.getAttribute("data-directory-url") + (query ? "?" + query : "");
    }
    document.getElementById(section.getAttribute("data-need-choices")).addEventListener("need:accept", function (event) {
      var d = event.detail;
      if (d.kind === "place") chosen = chosen.filter(function (c) { return c.kind !== "place"; });
      if (d.kind === "duration") chosen = chosen.filter(function (c) { return c.kind !== "duration"; });
      if (chosen.some(function (c) { return c.kind === d.kind && c.value === d.value; })) return;
      var prefix = { cpv: "CPV " + d.value + " — ", sector: "Secteur : ", place: "Lieu : ", duration: "Durée : " }[d.kind];
      chosen.push({ kind: d.kind, value: d.value, text: prefix + d.label });
      render();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-need-choices]").forEach(choicesList);
  });
})();
