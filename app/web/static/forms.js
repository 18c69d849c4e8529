/* Forms: a confirmation before an irreversible action (data-confirm; with data-confirm-when
   "name=value", only when that field has that value) and feedback while a long one runs
   (data-busy). Progressive enhancement only: without this script the forms work the same. */
"use strict";
function asksToConfirm(form) {
  var question = form.getAttribute("data-confirm");
  var when = form.getAttribute("data-confirm-when");
  if (!question || !when) {
    return question;
  }
  var parts = when.split("=");
  var field = form.elements.namedItem(parts[0]);
  return field && field.value === parts[1] ? question : null;
}
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = asksToConfirm(form);
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  var busy = form.getAttribute("data-busy");
  if (busy) {
    // A disabled button is left out of what the form sends: carry the clicked one's value.
    var clicked = event.submitter;
    if (clicked && clicked.name) {
      var carried = document.createElement("input");
      carried.type = "hidden";
      carried.name = clicked.name;
      carried.value = clicked.value;
      form.appendChild(carried);
    }
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = true;
      button.textContent = busy;
    });
  }
});
