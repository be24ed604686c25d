/* Search page: changing the sort order re-runs the search (the button still works without script). */
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var sort = document.getElementById("sort");
    if (sort && sort.form) sort.addEventListener("change", function () { sort.form.submit(); });
  });
})();
