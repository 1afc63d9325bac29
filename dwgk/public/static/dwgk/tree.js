// Opens the organization tree one level at a time. The page works without this script:
// every name links to the organization's own page, which lists its children.
"use strict";

document.documentElement.classList.add("js");

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.toggle[data-children]");
  if (!button) return;
  const item = button.closest("li");
  const name = button.dataset.name || "";
  const open = button.getAttribute("aria-expanded") === "true";
  let list = item.querySelector(":scope > ul");
  if (!open && !list) {
    button.disabled = true;
    try {
      const response = await fetch(button.dataset.children, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      item.insertAdjacentHTML("beforeend", await response.text());
      list = item.querySelector(":scope > ul");
    } catch (error) {
      // Could not load this level: fall back to the organization's own page.
      window.location.assign(item.querySelector("a").href);
      return;
    } finally {
      button.disabled = false;
    }
  }
  if (list) list.hidden = open;
  button.setAttribute("aria-expanded", String(!open));
  button.textContent = open ? "▸" : "▾";
  button.title = open ? "展开下级组织" : "收起下级组织";
  button.setAttribute("aria-label", (open ? "展开“" : "收起“") + name + "”的下级组织");
});
