/* Forms: a confirmation before an irreversible action (data-confirm) and feedback while a long
   one runs (data-busy). Progressive enhancement only: without this script the forms work the same. */
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  var busy = form.getAttribute("data-busy");
  if (busy) {
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = true;
      button.textContent = busy;
    });
  }
});
