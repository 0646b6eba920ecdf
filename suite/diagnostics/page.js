/* The diagnostics form of suite serve's page: images dropped or chosen, sent to /predict with Grad-CAM on;
   each image beside the region that drove the decision, with its probability and the decision at the
   operating point. */
"use strict";

(() => {
  const S = window.Suite;
  const {el} = S;
  const file = S.fileField("images", "Images (PNG or JPEG), one or more", "image/png,image/jpeg,.png,.jpg,.jpeg",
                           {multiple: true});
  const node = el("form", {}, file.box, el("button", {type: "submit"}, "Classify"));
  S.form.append(node);

  function verdict(p) {
    if (typeof p.probability === "number") {         // binary: one probability, the decision at the threshold
      return [el("p", {}, "probability of a finding: ", el("b", {class: "probability"}, S.fixed(p.probability))),
              el("p", {}, "decision: ", el("span", {class: `badge ${p.label === "negative" ? "no" : "yes"}`,
                                                    "data-label": p.label}, p.label),
                 ` (threshold ${S.fixed(p.threshold)})`)];
    }
    const probabilities = Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]);
    const decided = p.labels || [p.label];
    return [el("p", {}, "decision: ", decided.map((l) => el("span", {class: "badge yes", "data-label": l}, l, " "))),
            S.table(["class", "probability"], probabilities.map(([name, value]) => [name, S.fixed(value)]))];
  }

  S.onSubmit(node, async () => {
    const files = [...file.input.files];
    if (!files.length) throw new S.Failure("choose one or more images");
    const images = await Promise.all(files.map((f) => S.readAs(f, "dataURL")));
    const {predictions} = await S.api("predict", {json: {images, saliency: true}});
    predictions.forEach((p, i) => {
      S.answer.append(el("div", {class: "answer-block"}, el("h3", {}, files[i].name),
        el("div", {class: "pair"},
           el("figure", {}, el("img", {src: images[i], alt: `${files[i].name} as sent`}),
              el("figcaption", {}, "the image")),
           p.saliency ? el("figure", {}, el("img", {src: "data:image/png;base64," + p.saliency,
                                                    alt: `Grad-CAM of ${files[i].name}`, class: "saliency"}),
                           el("figcaption", {}, "Grad-CAM: where the decision came from")) : null),
        verdict(p)));
    });
    const point = S.operatingPoint();
    if (point && typeof point.tpr === "number") {
      S.answer.append(el("p", {class: "note"}, `At threshold ${S.fixed(point.threshold)}: sensitivity ` +
        `${S.percent(point.tpr)} (95% CI ${S.percent(point.tpr_low)}–${S.percent(point.tpr_high)}), false-positive ` +
        `rate ${S.percent(point.fpr)} (95% CI ${S.percent(point.fpr_low)}–${S.percent(point.fpr_high)}), ${point.where}.`));
    }
  });
})();
