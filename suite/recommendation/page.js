/* The recommendation form of suite serve's page: a known user, or titles someone liked (suggested from the
   catalogue as they are typed); the top k with titles, items nobody rated marked. */
"use strict";

(() => {
  const S = window.Suite;
  const {el} = S;
  const picked = [];                                         // {value: item id or free text, label}
  const titles = new Map();                                  // title -> item id, from the suggestions seen
  const radio = (value, label, checked) => el("label", {}, el("input", {type: "radio", name: "by", value, checked}),
                                              " ", label);
  const user = el("input", {type: "text", id: "user", name: "user", list: "user-list", autocomplete: "off"});
  const liked = el("input", {type: "text", id: "liked", name: "liked", list: "item-list", autocomplete: "off"});
  const chips = el("ul", {class: "chips", id: "chips", "aria-label": "titles they liked"});
  const k = el("input", {type: "number", id: "k", name: "k", min: 1, max: 100, value: 10});
  const userBox = el("div", {}, el("label", {for: "user"}, "User id (from the training data)"), user,
                     el("datalist", {id: "user-list"}));
  const add = el("button", {type: "button", class: "secondary", id: "add"}, "Add");
  const likedBox = el("div", {hidden: true},
                      el("div", {class: "row"}, el("div", {}, el("label", {for: "liked"}, "A title they liked"), liked),
                         add),
                      chips, el("datalist", {id: "item-list"}));
  const node = el("form", {},
                  el("fieldset", {}, el("legend", {}, "Recommend for"), radio("user", "a known user", true),
                     radio("history", "titles they liked", false)),
                  userBox, likedBox, el("label", {for: "k"}, "How many items"), k,
                  el("button", {type: "submit"}, "Recommend"));
  S.form.append(node);

  const mode = () => node.querySelector("input[name=by]:checked").value;
  node.querySelectorAll("input[name=by]").forEach((r) => r.addEventListener("change", () => {
    userBox.hidden = mode() !== "user";
    likedBox.hidden = mode() !== "history";
  }));

  function suggestions(input, field, list) {
    let timer = null;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        try {
          const found = await S.api("suggest", {query: {field, q: input.value, limit: 20}});
          list.replaceChildren(...found.map((s) => {
            if (field === "items") titles.set(s.label, s.value);
            return el("option", {value: field === "items" ? s.label : s.value}, field === "items" ? "" : s.label);
          }));
        } catch (error) { S.showError(error.message); }
      }, 150);
    });
  }
  suggestions(user, "users", userBox.querySelector("datalist"));
  suggestions(liked, "items", likedBox.querySelector("datalist"));

  function addLiked() {
    const title = liked.value.trim();
    if (!title) return;
    const id = titles.get(title);
    picked.push({value: id !== undefined ? id : title, label: id !== undefined ? title : `${title} (free text)`});
    liked.value = "";
    drawChips();
  }
  function drawChips() {
    chips.replaceChildren(...picked.map((p, i) => el("li", {}, p.label,
      el("button", {type: "button", "aria-label": `remove ${p.label}`,
                    onclick: () => { picked.splice(i, 1); drawChips(); }}, "×"))));
  }
  add.addEventListener("click", addLiked);
  liked.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); addLiked(); }
  });

  S.onSubmit(node, async () => {
    const count = Number(k.value) || 10;
    let request;
    if (mode() === "user") {
      if (!user.value.trim()) throw new S.Failure("type a user id");
      request = {users: [user.value.trim()], k: count};
    } else {
      if (liked.value.trim()) addLiked();
      if (!picked.length) throw new S.Failure("add at least one title they liked");
      request = {histories: [picked.map((p) => p.value)], k: count};
    }
    const [prediction] = (await S.api("predict", {json: request})).predictions;
    S.answer.append(el("ol", {id: "top-k"}, prediction.recommendations.map((r) => el("li", {"data-item": r.item},
      el("b", {}, r.text), ` (item ${r.item}, score ${S.fixed(r.score)}) `,
      r.rated === false ? el("span", {class: "badge cold", title: "no user of the training data rated it"},
                             "nobody rated this") : null))));
  });
})();
