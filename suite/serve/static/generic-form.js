/* The form of a domain that ships none of its own: its /predict request as JSON, the answer as JSON. */
"use strict";

(() => {
  const {el, api, onSubmit, data, answer, form} = window.Suite;
  const request = el("textarea", {id: "request", name: "request", spellcheck: "false"},
                     JSON.stringify(data.example_request, null, 2));
  const node = el("form", {}, el("label", {for: "request"}, "Request (JSON, as POST /predict takes it)"), request,
                  el("button", {type: "submit"}, "Predict"));
  form.append(node);
  onSubmit(node, async () => {
    let body;
    try {
      body = JSON.parse(request.value);
    } catch (error) {
      throw new window.Suite.Failure(`malformed JSON: ${error.message}`);
    }
    answer.append(el("pre", {}, JSON.stringify(await api("predict", {json: body}), null, 2)));
  });
})();
