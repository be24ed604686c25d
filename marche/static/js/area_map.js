/* Maps drawn over our own department outlines (a tile layer only when MAP_TILES_URL is configured): a
   structure's point and area, search results as clustered markers, or open tenders by department. Reads data attributes only.
   Leaflet renders a string given to bindTooltip/bindPopup as HTML: every text reaches it as a DOM
   element whose textContent is set, so a structure named "<img onerror=...>" stays a name. */
(function () {
  function textElement(text) {
    var span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span;
  }

  // Leaflet calls a content function when the popup or tooltip opens; it must answer a DOM element
  function domLater(build) {
    return function () {
      var node = build();
      if (!(node instanceof Node)) throw new TypeError("popup content must be a DOM node");
      return node;
    };
  }

  // the results' bounds, leaving out the overseas points when some lie in metropolitan France: a
  // single point in La Réunion would otherwise zoom the view out to the whole world (they stay on the map)
  function viewBounds(points) {
    var all = points.map(function (p) { return [p[1], p[2]]; });
    var metropolitan = all.filter(function (c) { return c[0] > 41 && c[0] < 51.5 && c[1] > -5.5 && c[1] < 10; });
    return L.latLngBounds(metropolitan.length ? metropolitan : all);
  }

  var outlines = null;
  function loadOutlines() {
    if (!outlines) outlines = fetch("/geo/departements.geojson").then(function (r) { return r.json(); });
    return outlines;
  }

  // MAP_TILES_URL, when the operator configured one (read from this script's tag): otherwise no tile
  // layer and no request to another host, only our own outlines
  var script = document.currentScript;
  var tiles = script ? { url: script.dataset.tilesUrl || "", attribution: script.dataset.tilesAttribution || "" } : { url: "" };

  function baseMap(element) {
    // A view and a max zoom from the start: circles and clusters need them before fitBounds.
    var map = L.map(element, { zoomSnap: 0.25, attributionControl: true, minZoom: 4, maxZoom: 16,
                           // popups appear at once: a fading popup is read (by people and axe) at half contrast
                           fadeAnimation: false });
    map.setView([46.6, 2.4], 5);
    if (tiles.url) {
      // the attribution is operator configuration, still given to Leaflet as text
      L.tileLayer(tiles.url, { maxZoom: 16, attribution: "" }).addTo(map);
      if (tiles.attribution) map.attributionControl.addAttribution(textElement(tiles.attribution).innerHTML);
    }
    map.attributionControl.addAttribution("Contours : IGN Admin Express (Licence Ouverte)");
    return map;
  }

  function drawOutlines(map, highlighted) {
    return loadOutlines().then(function (geojson) {
      var layer = L.geoJSON(geojson, {
        style: function (feature) {
          var on = highlighted && highlighted.indexOf(feature.properties.code) >= 0;
          return { color: "#3a3a68", weight: 0.6, fillColor: on ? "#6a6af4" : "#f6f6f6", fillOpacity: tiles.url ? (on ? 0.25 : 0.05) : (on ? 0.35 : 0.6) };
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

  /* The results map: points from the compact JSON endpoint (/structures/carte.json, the search's own
     arguments), each [id, lat, lng, "ACI|EI", name, city, ident]; popups and tooltips are built on
     first opening, from DOM elements whose textContent is set. */
  function popupContent(point, element, kindLabels) {
    var box = document.createElement("div");
    box.className = "marche-map-popup";
    var title = document.createElement("p");
    title.className = "marche-map-popup__title";
    var link = document.createElement("a");
    link.href = element.dataset.profileUrl.replace("__IDENT__", encodeURIComponent(point[6]));
    link.textContent = point[4];
    title.appendChild(link);
    box.appendChild(title);
    var kinds = document.createElement("p");
    kinds.textContent = point[3].split("|").map(function (k) { return kindLabels[k] ? k + " — " + kindLabels[k] : k; }).join(", ");
    box.appendChild(kinds);
    if (point[5]) {
      var city = document.createElement("p");
      city.textContent = point[5];
      box.appendChild(city);
    }
    return box;
  }

  function showStatus(element, text) {
    var status = document.getElementById(element.dataset.statusId || "");
    if (status) status.textContent = text;
  }

  function resultsMap(element) {
    var kindLabels = JSON.parse(element.dataset.kindLabels || "{}");
    var map = baseMap(element);
    var points = fetch(element.dataset.pointsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); });
    Promise.all([drawOutlines(map, []), points]).then(function (done) {
      var layer = done[0], answer = done[1];
      var group = typeof L.markerClusterGroup === "function" ? L.markerClusterGroup({ chunkedLoading: true }) : L.featureGroup();
      var markers = answer.points.map(function (p) {
        var marker = L.marker([p[1], p[2]], { title: p[4], alt: p[4] });
        // built when first opened (5 000 points): functions that return DOM elements, never HTML strings
        marker.bindPopup(domLater(function () { return popupContent(p, element, kindLabels); }));
        marker.bindTooltip(domLater(function () { return textElement(p[4]); }));
        return marker;
      });
      group.addLayers ? group.addLayers(markers) : markers.forEach(function (m) { group.addLayer(m); });
      map.addLayer(group);
      // zoom to the results (a single point: not closer than a town); none: the whole of France
      // (from the points themselves: clusters are filled in chunks, after this line)
      if (markers.length) map.fitBounds(viewBounds(answer.points).pad(0.2), { maxZoom: 11, animate: false });
      else map.fitBounds(layer.getBounds(), { animate: false });
      element.dataset.zoom = String(map.getZoom());
      element.dataset.pointsLoaded = String(markers.length);
      showStatus(element, markers.length ? (markers.length.toLocaleString("fr-FR") + (markers.length > 1 ? " structures placées" : " structure placée") + " sur la carte.")
                                        : "Aucune structure à placer sur la carte.");
    }).catch(function () {
      showStatus(element, "Les points de la carte n'ont pas pu être chargés : utilisez la liste.");
    });
  }

  // the tender search map: each department coloured by the number of open tenders placed in it (the search's
  // « departments » facet, read from a data attribute); a click narrows the search to the department
  function tenderMap(element) {
    var counts = JSON.parse(element.dataset.counts || "{}");
    var max = Object.keys(counts).reduce(function (m, k) { return Math.max(m, counts[k]); }, 0);
    var map = baseMap(element);
    map.setMaxZoom(10);
    loadOutlines().then(function (geojson) {
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
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") return;
    L.Icon.Default.imagePath = "/static/vendor/leaflet/images/";
    document.querySelectorAll("[data-area-map]").forEach(areaMap);
    document.querySelectorAll("[data-results-map]").forEach(resultsMap);
    document.querySelectorAll("[data-tender-map]").forEach(tenderMap);
  });
})();
