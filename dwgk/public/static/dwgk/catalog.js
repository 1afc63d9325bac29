// The catalog entry form shows only the fields that apply: the timing fields of the chosen
// kind, the meeting name of a collective-decision step, the organization list of the
// 特定组织 scope, and the number of a counted duration. Without this script every field is
// shown and the server ignores the ones that do not apply.
"use strict";

(() => {
  const form = document.querySelector(".entry-form");
  if (!form) return;

  const value = (name) => {
    const checked = form.querySelector(`[name="${name}"]:checked`);
    if (checked) return checked.value;
    const field = form.querySelector(`select[name="${name}"]`);
    return field ? field.value : "";
  };

  const update = () => {
    const kind = value("timing_kind");
    form.querySelectorAll("[data-timing]").forEach((el) => {
      el.hidden = el.dataset.timing !== kind;
    });
    form.querySelectorAll("[data-show-step]").forEach((el) => {
      const step = document.getElementById(el.dataset.showStep);
      el.hidden = !step || step.value !== "body";
    });
    form.querySelectorAll("[data-show-scope]").forEach((el) => {
      el.hidden = value("scope") !== el.dataset.showScope;
    });
    form.querySelectorAll("[data-show-period]").forEach((el) => {
      el.hidden = value("period") !== el.dataset.showPeriod;
    });
    const counted = ["days", "months", "years"].includes(value("duration_unit"));
    form.querySelectorAll("[data-duration-n]").forEach((el) => {
      el.hidden = !counted;
    });
  };

  form.addEventListener("change", update);
  update();
})();
