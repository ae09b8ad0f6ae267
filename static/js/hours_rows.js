// « Ajouter une ligne » on a point's hours: with JavaScript, a new empty row appears in the page (a copy of
// the formset's empty form); without it, the button asks the server for the same page with one row more.
document.querySelectorAll("[data-hours-form]").forEach((form) => {
  const rows = form.querySelector("[data-hours-rows]");
  const empty = form.querySelector("template[data-hours-empty]");
  const total = form.querySelector('input[name="hours-TOTAL_FORMS"]');
  const add = form.querySelector("[data-hours-add]");
  if (!rows || !empty || !total || !add) return;
  add.addEventListener("click", (event) => {
    event.preventDefault();
    const index = Number(total.value);
    const html = empty.innerHTML
      .replaceAll("__prefix__", String(index))
      .replaceAll("__number__", String(index + 1));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const first = rows.lastElementChild.querySelector("select, input");
    if (first) first.focus();
  });
});
