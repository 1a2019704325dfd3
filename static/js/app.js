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

  // What autosaves: a question's answers (its fieldset) and its note (the block under it).
  var AUTOSAVED = "fieldset.question, .question-note";

  function statusFor(element) {
    var box = element && element.closest ? element.closest(AUTOSAVED) : null;
    return box ? box.querySelector(".save-status") : null;
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
    var fieldset = element && element.closest ? element.closest(AUTOSAVED) : null;
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

  // --- Nothing on screen may differ from what is stored ---------------------------------------
  // A number being typed is saved when the field is left (or on Enter); until then its status
  // says it is unsaved. Leaving the page (a link, a button, another form) first sends what is
  // still unsaved and waits for every save in flight; it goes on only if they all succeeded.
  var inFlight = 0;
  var waiters = [];
  var failed = false;

  function numberFieldset(element) {
    return element && element.matches && element.matches("fieldset.question input[type=number]")
      ? element.closest("fieldset.question") : null;
  }

  document.addEventListener("input", function (event) {
    var fieldset = numberFieldset(event.target);
    if (!fieldset) {
      return;
    }
    fieldset.setAttribute("data-unsaved", "");
    var status = fieldset.querySelector(".save-status");
    if (status) {
      status.className = "save-status is-unsaved";
      status.textContent = "● Unsaved: saved when you leave the field or press Enter";
    }
  });

  // A note saves itself a moment after the typing stops (hx-trigger "input delay"); until
  // then it counts as unsaved, so leaving the page sends it first.
  document.addEventListener("input", function (event) {
    var note = event.target.closest ? event.target.closest(".question-note") : null;
    if (!note) {
      return;
    }
    note.setAttribute("data-unsaved", "");
    var status = note.querySelector(".save-status");
    if (status) {
      status.className = "save-status note-status is-unsaved";
      status.textContent = "● Not saved yet: saves when you stop typing";
    }
  });

  // Enter in a number field saves that answer (rather than submitting the whole form).
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && numberFieldset(event.target)) {
      event.preventDefault();
      htmx.trigger(event.target, "change");
    }
  });

  function isAutosave(event) {
    var elt = event.detail && event.detail.elt;
    return !!(elt && elt.matches && elt.matches(AUTOSAVED));
  }

  // Counted on the request itself (its "loadend"), not on htmx:afterRequest: a refused save
  // swaps a redrawn question in place of the element that sent it, and htmx's events from a
  // detached element never reach the document, so a count kept there stayed up for good and
  // every link and button of the page waited for it.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!isAutosave(event)) {
      return;
    }
    inFlight += 1;
    event.detail.elt.removeAttribute("data-unsaved");
    var xhr = event.detail.xhr;
    xhr.addEventListener("loadend", function () {
      inFlight = Math.max(0, inFlight - 1);
      if (xhr.status !== 200) {
        failed = true;
      }
      settle();
    });
  });

  function settle() {
    // A queued save of the same question starts right after the previous one ends: look again
    // once the current events are done before calling everything saved.
    setTimeout(function () {
      if (inFlight > 0) {
        return;
      }
      var done = waiters;
      waiters = [];
      done.forEach(function (waiter) { waiter(); });
    }, 0);
  }

  function unsavedFields() {
    return Array.prototype.slice.call(document.querySelectorAll(
      "fieldset.question[data-unsaved], .question-note[data-unsaved]"));
  }

  function hasPending() {
    return inFlight > 0 || unsavedFields().length > 0;
  }

  // Send what is unsaved, wait for every save, then `proceed` unless one was refused or failed.
  function saveThen(proceed) {
    failed = false;
    unsavedFields().forEach(function (fieldset) {
      if (fieldset.matches(".question-note")) {
        htmx.trigger(fieldset, "notesave");  // now, not after the typing pause
        return;
      }
      var input = fieldset.querySelector("input[type=number]");
      if (input) {
        htmx.trigger(input, "change");
      }
    });
    waiters.push(function () {
      if (!failed && unsavedFields().length === 0) {
        proceed();
        return;
      }
      var problem = document.querySelector("fieldset.question.has-error, fieldset.question[data-unsaved], " +
        ".question-note.has-error, .question-note[data-unsaved]");
      if (problem) {
        problem.scrollIntoView({ block: "center" });
      }
    });
    settle();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
        event.shiftKey || event.altKey || link.target || link.hasAttribute("download") ||
        link.getAttribute("href").charAt(0) === "#" || !hasPending()) {
      return;
    }
    event.preventDefault();
    var href = link.href;
    saveThen(function () { window.location.assign(href); });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-saves-done")) {
      form.removeAttribute("data-saves-done");
      return;
    }
    if (!hasPending()) {
      return;
    }
    event.preventDefault();
    var submitter = event.submitter || null;
    saveThen(function () {
      form.setAttribute("data-saves-done", "");
      if (form.requestSubmit) {
        form.requestSubmit(submitter);
      } else {
        form.submit();
      }
    });
  });

  // Any other way out (the address bar, Back, closing the tab) while a save is pending asks first.
  window.addEventListener("beforeunload", function (event) {
    if (hasPending()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Browsers that cannot keep a closed <details> showing its panel on a wide screen (app.css)
  // get it opened instead.
  var details = document.getElementById("verdict-details");
  if (details && window.CSS && CSS.supports && !CSS.supports("selector(::details-content)") &&
      window.matchMedia("(min-width: 901px)").matches) {
    details.open = true;
  }

  // Run the numbers: a recalculation redraws the numbers and the form together. Keep open
  // the panels that were open ("Show the sums", ...), and give focus back to the field a
  // Reset button reset (the button itself is gone once the value is the default again).
  var openPanels = [];
  var resetField = null;
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("#numbers-work button[name=reset]") : null;
    resetField = button ? button.value : null;
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var work = document.getElementById("numbers-work");
    if (work && event.detail.target === work) {
      openPanels = Array.prototype.map.call(work.querySelectorAll("details[open]"), function (panel) {
        return panel.classList[0];
      });
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var work = document.getElementById("numbers-work");
    if (!work) {
      return;
    }
    openPanels.forEach(function (name) {
      var panel = work.querySelector("details." + name);
      if (panel) {
        panel.open = true;
      }
    });
    openPanels = [];
    if (resetField) {
      var field = resetField === "all" ? work.querySelector(".assumptions-form input, .assumptions-form select")
        : document.getElementById("a-" + resetField);
      if (field) {
        field.focus();
      }
      resetField = null;
    }
  });

  // The sign-off panel of a shared page comes back in place even when the response is refused
  // for sending too many (429): the panel says so and how long to wait.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 429 && event.detail.target && event.detail.target.id === "sign-off") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    showFailure(event, "Not saved: the server could not be reached. Your choice is still selected; change it again or use “Save all answers” when you are back online.");
  });
  // Why a request was refused, in words: a 404 here means the page's object is gone for this
  // user (removed from the project, the project deleted, a share link revoked), not a fault.
  var GONE = "this page is no longer yours to change: you may have been removed from the project, or it was deleted. Reload the page to see where you stand.";
  var LINK_GONE = "This link no longer works: it was revoked or has expired. Nothing was sent.";

  document.addEventListener("htmx:responseError", function (event) {
    var code = event.detail.xhr.status;
    var panel = event.detail.target;
    if (panel && panel.id === "sign-off") {
      var alert = document.createElement("p");
      alert.className = "share-error";
      alert.setAttribute("role", "alert");
      alert.textContent = code === 404 ? LINK_GONE
        : "Not sent: the server had a problem (" + code + "). Please try again.";
      panel.querySelectorAll(".share-error").forEach(function (old) { old.remove(); });
      panel.insertBefore(alert, panel.querySelector("form"));
      return;
    }
    if (code === 404) {
      showFailure(event, "Not saved: " + GONE);
      return;
    }
    showFailure(event, "Not saved: the server had a problem (" + code + "). Your choice is still selected; try again or use “Save all answers”.");
  });
})();
