// "Suggest To A Friend" and the subscribe forms (issue 16): fetch a fresh form token when a
// form is first used, so the page itself stays the same cached bytes for everyone. Without JavaScript the
// form still works: the server answers with the form again, a token in it, to send once more.
(function () {
  "use strict";
  document.querySelectorAll("form.share-form, form.subscribe-form").forEach(function (form) {
    var field = form.querySelector("input[name=token]");
    var asked = null;
    function ask() {
      if (field.value || asked) return asked;
      asked = fetch(form.dataset.tokenUrl, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && data.token) field.value = data.token; })
        .catch(function () { asked = null; });
      return asked;
    }
    form.addEventListener("focusin", ask);
    form.addEventListener("submit", function (event) {
      if (field.value) return;
      event.preventDefault();
      Promise.resolve(ask()).then(function () { form.submit(); });
    });
  });
})();
