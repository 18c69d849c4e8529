/* A job page that follows its job: reload every two seconds while the job is queued or running
   (data-follow on <main> carries the URL). Without this script the page has a refresh link. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var follow = document.querySelector("[data-follow]");
  if (follow) {
    window.setTimeout(function () {
      window.location.replace(follow.getAttribute("data-follow"));
    }, 2000);
  }
});
