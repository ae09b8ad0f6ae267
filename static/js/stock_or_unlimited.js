// « Prix et stocks »: a number and « illimité » exclude each other (the server refuses both at once).
// Typing a number unticks « illimité »; ticking « illimité » empties the number. Without this script the
// server's message asks the person to choose.
document.querySelectorAll("[data-stock-or-unlimited] .bulk-row").forEach((row) => {
  const stock = row.querySelector('input[name$="-stock"]');
  const unlimited = row.querySelector('input[name$="-unlimited"]');
  if (!stock || !unlimited) return;
  stock.addEventListener("input", () => {
    if (stock.value !== "") unlimited.checked = false;
  });
  unlimited.addEventListener("change", () => {
    if (unlimited.checked) stock.value = "";
  });
});
