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
