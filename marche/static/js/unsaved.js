/* The edit page holds several forms (profile, commitment, reference, contact, logo, invitation): sending
   one reloads the page and would lose what was typed in another. Forms marked data-warn-unsaved are
   watched; leaving the page (a link, another form's button, closing the tab) while one of them holds
   unsent changes asks the browser's confirmation. The form being sent is not counted as unsaved, and a
   form the server sent back with errors starts as changed (its text was not saved yet). */
(function () {
  var dirty = [];
  var submitting = null;

  function markDirty(form) {
    if (dirty.indexOf(form) === -1) dirty.push(form);
    form.setAttribute("data-unsaved", "1");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-warn-unsaved]").forEach(function (form) {
      form.addEventListener("input", function () { markDirty(form); });
      form.addEventListener("change", function () { markDirty(form); });
      form.addEventListener("submit", function () { submitting = form; });
      if (form.getAttribute("data-warn-unsaved") === "dirty") markDirty(form);
    });
  });

  window.addEventListener("beforeunload", function (event) {
    var unsaved = dirty.filter(function (form) { return form !== submitting; });
    if (unsaved.length === 0) return undefined;
    event.preventDefault();
    event.returnValue = "";  // the browser shows its own message; older browsers need a value
    return "";
  });
})();
