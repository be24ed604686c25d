/* Maps drawn over our own department outlines (no tile server): a structure's point and area,
   or search results as clustered markers. Reads data attributes only.
   Leaflet renders a string given to bindTooltip/bindPopup as HTML: every text reaches it as a DOM
   element whose textContent is set, so a structure named "<img onerror=...>" stays a name. */
(function () {
  function textElement(text) {
    var span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span;
  }

  var outlines = null;
  function loadOutlines() {
    if (!outlines) outlines = fetch("/geo/departements.geojson").then(function (r) { return r.json(); });
    return outlines;
  }

  function baseMap(element) {
    // A view and a max zoom from the start: circles and clusters need them before fitBounds.
    var map = L.map(element, { zoomSnap: 0.25, attributionControl: true, minZoom: 4, maxZoom: 14 });
    map.setView([46.6, 2.4], 5);
    map.attributionControl.addAttribution("Contours : IGN Admin Express (Licence Ouverte)");
    return map;
  }

  function drawOutlines(map, highlighted) {
    return loadOutlines().then(function (geojson) {
      var layer = L.geoJSON(geojson, {
        style: function (feature) {
          var on = highlighted && highlighted.indexOf(feature.properties.code) >= 0;
          return { color: "#3a3a68", weight: 0.6, fillColor: on ? "#6a6af4" : "#f6f6f6", fillOpacity: on ? 0.35 : 0.6 };
        },
        onEachFeature: function (feature, l) { l.bindTooltip(textElement(feature.properties.nom + " (" + feature.properties.code + ")")); }
      }).addTo(map);
      return layer;
    });
  }

  function areaMap(element) {
    var lat = parseFloat(element.dataset.lat), lng = parseFloat(element.dataset.lng);
    var radius = parseFloat(element.dataset.radiusKm || "0");
    var departments = JSON.parse(element.dataset.departments || "[]");
    var map = baseMap(element);
    drawOutlines(map, departments).then(function (layer) {
      var bounds = null;
      if (!isNaN(lat) && !isNaN(lng)) {
        L.circleMarker([lat, lng], { radius: 6, color: "#000091", fillOpacity: 1 }).addTo(map)
          .bindTooltip(textElement(element.dataset.label || ""));
        if (radius > 0) {
          // not interactive: drawn over the point, it would otherwise catch the hover meant for the point's tooltip
          var circle = L.circle([lat, lng], { radius: radius * 1000, color: "#000091", weight: 2, fillOpacity: 0.08,
                                              interactive: false }).addTo(map);
          bounds = circle.getBounds();
        }
      }
      if (!bounds && departments.length) {
        var selected = L.featureGroup();
        layer.eachLayer(function (l) { if (departments.indexOf(l.feature.properties.code) >= 0) selected.addLayer(l); });
        if (selected.getLayers().length) bounds = selected.getBounds();
      }
      if (!bounds) bounds = layer.getBounds();
      map.fitBounds(bounds.pad(0.1));
    });
  }

  function resultsMap(element) {
    var points = JSON.parse(element.dataset.points || "[]");
    var map = baseMap(element);
    drawOutlines(map, []).then(function (layer) {
      var group = typeof L.markerClusterGroup === "function" ? L.markerClusterGroup() : L.featureGroup();
      points.forEach(function (p) {
        var marker = L.marker([p.lat, p.lng], { title: p.name, alt: p.name });
        var link = document.createElement("a");
        link.href = p.url; link.textContent = p.name;
        marker.bindPopup(link);
        marker.bindTooltip(textElement(p.name));
        group.addLayer(marker);
      });
      map.addLayer(group);
      map.fitBounds(points.length ? group.getBounds().pad(0.2) : layer.getBounds());
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") return;
    L.Icon.Default.imagePath = "/static/vendor/leaflet/images/";
    document.querySelectorAll("[data-area-map]").forEach(areaMap);
    document.querySelectorAll("[data-results-map]").forEach(resultsMap);
  });
})();
