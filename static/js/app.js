// Progressive enhancement for the questionnaire; every form works without this file.
(function () {
  "use strict";

  // Texts that are only true with this script (answers saved as they are chosen) show only
  // when it runs; without it the page says what is true then.
  document.documentElement.classList.add("js");

  // "None" is exclusive in multi-choice questions: picking it clears the others and vice versa,
  // so the autosave never sends a combination the server must reject.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("fieldset.question input[type=checkbox]") || !input.checked) {
      return;
    }
    var fieldset = input.closest("fieldset");
    var exclusive = input.hasAttribute("data-exclusive");
    fieldset.querySelectorAll("input[type=checkbox]").forEach(function (other) {
      if (other !== input && (exclusive || other.hasAttribute("data-exclusive"))) {
        other.checked = false;
      }
    });
  }, true);

  function statusFor(element) {
    var fieldset = element && element.closest ? element.closest("fieldset.question") : null;
    return fieldset ? fieldset.querySelector(".save-status") : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var status = statusFor(event.detail.elt);
    if (status) {
      status.className = "save-status is-saving";
      status.textContent = "Saving…";
    }
  });

  function showFailure(event, text) {
    var status = statusFor(event.detail.elt);
    if (status) {
      status.className = "save-status is-error";
      status.textContent = "✕ " + text;
    }
  }

  // Copy a share link to the clipboard; without JS the field is still selectable.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy-target]") : null;
    if (!button) {
      return;
    }
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    field.select();
    var done = function () { button.textContent = "Copied ✓"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });

  // Mirror the server's verdict on the question's box: red when a save was rejected.
  document.addEventListener("htmx:afterRequest", function (event) {
    var element = event.detail.elt;
    var fieldset = element && element.closest ? element.closest("fieldset.question") : null;
    if (!fieldset || !event.detail.xhr) {
      return;
    }
    var rejected = event.detail.xhr.status === 422;
    fieldset.classList.toggle("has-error", rejected);
    if (rejected) {
      fieldset.setAttribute("aria-invalid", "true");
    } else {
      fieldset.removeAttribute("aria-invalid");
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    showFailure(event, "Not saved: the server could not be reached. Your choice is still selected; change it again or use “Save all answers” when you are back online.");
  });
  document.addEventListener("htmx:responseError", function (event) {
    showFailure(event, "Not saved: the server had a problem (" + event.detail.xhr.status + "). Your choice is still selected; try again or use “Save all answers”.");
  });
})();
