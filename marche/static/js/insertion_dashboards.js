/* Insertion dashboards: Chart.js charts from the figures the page carries in `data-chart` (JSON written by the
   server). A contract: the month's validated hours as bars, the cumulative, the pro-rata target and the linear
   projection as lines. A year: the months against the pro-rata target; a breakdown: horizontal bars. Chart.js
   draws on a canvas: no text of ours reaches the DOM as HTML. */
(function () {
  if (!window.Chart) return;
  var BLUE = "#000091", GREEN = "#18753c", GREY = "#929292", RED = "#ce0500";
  var number = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 2 });
  function hours(value) { return number.format(value) + " h"; }

  function line(label, data, colour, dashed) {
    return { type: "line", label: label, data: data, borderColor: colour, backgroundColor: colour, pointRadius: 2,
             borderDash: dashed ? [6, 4] : [], spanGaps: false, yAxisID: "cumul", order: 1 };
  }

  function monthChart(canvas, data, kind) {
    var datasets = [{ type: "bar", label: "Heures validées du mois", data: data.validated, backgroundColor: BLUE,
                      yAxisID: kind === "contract" ? "month" : "cumul", order: 2 }];
    var scales = { cumul: { position: "left", beginAtZero: true, ticks: { callback: hours } } };
    if (kind === "contract") {
      datasets.push(line("Cumul validé", data.cumulative, GREEN, false));
      datasets.push(line("Objectif au prorata (cumul)", data.target, GREY, false));
      datasets.push(line("Projection linéaire (cumul)", data.projected, RED, true));
      scales.month = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                       ticks: { callback: hours } };
    } else {
      datasets.push(line("Objectif du mois au prorata", data.target, GREY, false));
    }
    return new Chart(canvas, {
      data: { labels: data.labels, datasets: datasets },
      options: { maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false },
                 scales: scales,
                 plugins: { tooltip: { callbacks: { label: function (item) {
                   return item.dataset.label + " : " + hours(item.parsed.y);
                 } } } } }
    });
  }

  function barChart(canvas, data) {
    return new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: "Heures validées", data: data.hours, backgroundColor: BLUE }] },
      options: { indexAxis: "y", maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true, ticks: { callback: hours } } } }
    });
  }

  document.querySelectorAll("canvas[data-insertion-chart]").forEach(function (canvas) {
    var data = JSON.parse(canvas.dataset.chart || "{}");
    if (canvas.dataset.insertionChart === "bars") barChart(canvas, data);
    else monthChart(canvas, data, canvas.dataset.insertionChart);
  });
})();
