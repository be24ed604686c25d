/* The tender search map: our own department outlines, each coloured by the number of open tenders placed
   in it (the search's « departments » facet, read from a data attribute); a click narrows the search to
   the department. Names reach Leaflet as DOM text, never as HTML. */
(function () {
  var element = document.querySelector("[data-tender-map]");
  if (!element || !window.L) return;

  function textElement(text) {
    var span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span;
  }
  var counts = JSON.parse(element.dataset.counts || "{}");
  var max = Object.keys(counts).reduce(function (m, k) { return Math.max(m, counts[k]); }, 0);
  var map = L.map(element, { minZoom: 4, maxZoom: 10, fadeAnimation: false }).setView([46.6, 2.4], 5);
  map.attributionControl.addAttribution("Contours : IGN Admin Express (Licence Ouverte)");
  fetch("/geo/departements.geojson").then(function (r) { return r.json(); }).then(function (geojson) {
    L.geoJSON(geojson, {
      style: function (feature) {
        var n = counts[feature.properties.code] || 0;
        return { color: "#3a3a3a", weight: 1, fillColor: "#000091", fillOpacity: n && max ? 0.15 + 0.6 * n / max : 0.02 };
      },
      onEachFeature: function (feature, layer) {
        var n = counts[feature.properties.code] || 0;
        layer.bindTooltip(textElement(feature.properties.nom + " (" + feature.properties.code + ") : " + n +
                                      " consultation" + (n > 1 ? "s" : "")));
        layer.on("click", function () {
          window.location = element.dataset.departmentUrl.replace("__CODE__", encodeURIComponent(feature.properties.code));
        });
      }
    }).addTo(map);
  });
})();
